import { transformRow } from "../model/preprocess.js";
import { DECIMAL } from "../data/values.js";
/**
 * Reads `{features: {...}}`, `{features: [...]}` (schema order) or `{instances: [...]}` and
 * checks every field against the schema, naming each bad one. Nothing here throws on input.
 */
export function parseInstances(body, config, maxBatch) {
    if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return { errors: [{ instance: 0, field: "(body)", problem: 'expected a JSON object with "features" or "instances"' }] };
    }
    const record = body;
    const keys = Object.keys(record);
    const extra = keys.filter((k) => k !== "features" && k !== "instances" && k !== "request_id");
    if (extra.length > 0 || ("features" in record) === ("instances" in record)) {
        return { errors: [{ instance: 0, field: "(body)", problem: `expected exactly one of "features" or "instances"${extra.length ? `; unknown: ${extra.join(", ")}` : ""}` }] };
    }
    const idError = requestIdError(record.request_id, "request_id");
    if (idError)
        return { errors: [idError] };
    const batch = "instances" in record;
    const items = batch ? record.instances : [record.features];
    if (!Array.isArray(items) || items.length === 0)
        return { errors: [{ instance: 0, field: "instances", problem: "expected a non-empty array" }] };
    if (items.length > maxBatch)
        return { errors: [{ instance: 0, field: "instances", problem: `at most ${maxBatch} instances per request, got ${items.length}` }] };
    const errors = [];
    const rows = items.map((item, index) => checkInstance(item, index, config, errors));
    return errors.length > 0 ? { errors } : { rows, batch };
}
/** A client's request id must be a string (or absent, or null); anything else is a bad field. */
export function requestIdError(value, field) {
    if (value === undefined || value === null || typeof value === "string")
        return undefined;
    return { instance: 0, field, problem: `expected a string, got ${Array.isArray(value) ? "an array" : typeof value}` };
}
const featureNames = new WeakMap();
function checkInstance(item, index, config, errors) {
    const features = config.features;
    let names = featureNames.get(config);
    if (!names)
        featureNames.set(config, (names = new Set(features.map((f) => f.name))));
    let row;
    if (Array.isArray(item)) {
        if (item.length !== features.length) {
            errors.push({ instance: index, field: "(features)", problem: `expected ${features.length} values in schema order, got ${item.length}` });
            return {};
        }
        row = Object.fromEntries(features.map((f, i) => [f.name, item[i]]));
    }
    else if (item !== null && typeof item === "object") {
        row = item;
        for (const key in row) {
            if (!names.has(key))
                errors.push({ instance: index, field: key, problem: "unknown field (not in the feature schema)" });
        }
    }
    else {
        errors.push({ instance: index, field: "(features)", problem: "expected an object of feature values or an array in schema order" });
        return {};
    }
    for (const feature of features) {
        const value = row[feature.name];
        if (value === undefined)
            errors.push({ instance: index, field: feature.name, problem: "missing" });
        else if (value === null) {
            if (!feature.nullable)
                errors.push({ instance: index, field: feature.name, problem: "null, but the feature is not nullable" });
        }
        else if (feature.type === "numeric") {
            const number = typeof value === "number" ? value : typeof value === "string" && DECIMAL.test(value.trim()) ? Number(value) : NaN;
            if (typeof value !== "number" && typeof value !== "string")
                errors.push({ instance: index, field: feature.name, problem: `expected a number, got ${typeof value}` });
            else if (!Number.isFinite(number))
                errors.push({ instance: index, field: feature.name, problem: `not a finite number: ${typeof value === "number" ? String(value) : JSON.stringify(value)}` });
            else if ((feature.min !== undefined && number < feature.min) || (feature.max !== undefined && number > feature.max)) {
                errors.push({ instance: index, field: feature.name, problem: `${number} is outside [${feature.min ?? "-inf"}, ${feature.max ?? "inf"}]` });
            }
        }
        else if (typeof value !== "string" || !feature.values.includes(value)) {
            errors.push({ instance: index, field: feature.name, problem: `unknown category ${JSON.stringify(value)} (allowed: ${feature.values.join(", ")})` });
        }
    }
    return row;
}
/** The network inputs of validated rows. */
export function inputsOf(preprocess, rows) {
    const x = new Float32Array(rows.length * preprocess.inputDim);
    rows.forEach((row, i) => transformRow(preprocess, row, x.subarray(i * preprocess.inputDim, (i + 1) * preprocess.inputDim)));
    return x;
}
const SENT_FEATURES_PREFIX = '{"features":{';
/**
 * The features object's JSON text exactly as the client sent it, when the body is nothing but
 * `{"features":{...}}` (what clients send, compact); otherwise undefined and the caller
 * serialises the parsed row. Logging the received text spares JSON.stringify on every request.
 * The body already parsed as JSON, so a scan of strings and nesting finds where the object
 * ends; anything after it but whitespace (a second "features" key, say) means undefined.
 */
export function sentFeaturesText(raw) {
    if (raw === undefined || !raw.startsWith(SENT_FEATURES_PREFIX))
        return undefined;
    let end = raw.length - 1;
    while (end > 0 && raw.charCodeAt(end) <= 32)
        end -= 1;
    if (raw.charCodeAt(end) !== 125)
        return undefined;
    const start = SENT_FEATURES_PREFIX.length - 1;
    let depth = 0;
    let i = start;
    for (; i < end; i += 1) {
        const code = raw.charCodeAt(i);
        if (code === 34) {
            for (i += 1; i < end; i += 1) {
                const inner = raw.charCodeAt(i);
                if (inner === 92)
                    i += 1;
                else if (inner === 34)
                    break;
            }
        }
        else if (code === 123 || code === 91) {
            depth += 1;
        }
        else if ((code === 125 || code === 93) && --depth === 0) {
            break;
        }
    }
    for (let j = i + 1; j < end; j += 1)
        if (raw.charCodeAt(j) > 32)
            return undefined;
    return raw.slice(start, i + 1);
}
//# sourceMappingURL=instances.js.map