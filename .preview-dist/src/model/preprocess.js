/** A stored or received numeric value as a number; NaN when missing. */
export function numericValue(value) {
    return value === null || value === undefined || value === "" ? NaN : Number(value);
}
/** The index of a category among the schema's values; -1 when missing or unknown. */
export function categoryIndex(values, value) {
    return value === null || value === undefined ? -1 : values.indexOf(String(value).trim());
}
export function fitPreprocess(features, columns, trainRows) {
    let inputDim = 0;
    const params = features.map((feature) => {
        if (feature.type === "categorical") {
            inputDim += feature.values.length + 1;
            return { name: feature.name, type: "categorical", values: [...feature.values] };
        }
        const values = columns.numeric.get(feature.name);
        let count = 0;
        let mean = 0;
        let m2 = 0;
        for (let i = 0; i < values.length; i += 1) {
            const x = values[i];
            if (trainRows[i] !== 1 || Number.isNaN(x))
                continue;
            count += 1;
            const delta = x - mean;
            mean += delta / count;
            m2 += delta * (x - mean);
        }
        const std = count > 1 ? Math.sqrt(m2 / (count - 1)) : 1;
        const indicator = feature.nullable;
        inputDim += indicator ? 2 : 1;
        return { name: feature.name, type: "numeric", mean: count > 0 ? mean : 0, std: std > 1e-12 ? std : 1, indicator };
    });
    return { features: params, inputDim };
}
/** Writes the input vectors of all rows into one Float32Array (rows x inputDim). */
export function transformColumns(params, columns) {
    const out = new Float32Array(columns.rows * params.inputDim);
    let offset = 0;
    for (const feature of params.features) {
        if (feature.type === "numeric") {
            const values = columns.numeric.get(feature.name);
            for (let r = 0; r < columns.rows; r += 1) {
                const x = values[r];
                const base = r * params.inputDim + offset;
                if (Number.isNaN(x)) {
                    out[base] = 0;
                    if (feature.indicator)
                        out[base + 1] = 1;
                }
                else
                    out[base] = (x - feature.mean) / feature.std;
            }
            offset += feature.indicator ? 2 : 1;
        }
        else {
            const indices = columns.categorical.get(feature.name);
            for (let r = 0; r < columns.rows; r += 1) {
                const index = indices[r];
                out[r * params.inputDim + offset + (index < 0 ? feature.values.length : index)] = 1;
            }
            offset += feature.values.length + 1;
        }
    }
    return out;
}
/**
 * One row, as the server receives it, into `out` (length inputDim). Accepts numbers or numeric
 * strings and category names; the caller has validated the row.
 */
export function transformRow(params, row, out) {
    out.fill(0);
    let offset = 0;
    for (const feature of params.features) {
        const value = row[feature.name];
        if (feature.type === "numeric") {
            const x = numericValue(value);
            if (Number.isNaN(x)) {
                if (feature.indicator)
                    out[offset + 1] = 1;
            }
            else
                out[offset] = (x - feature.mean) / feature.std;
            offset += feature.indicator ? 2 : 1;
        }
        else {
            const index = categoryIndex(feature.values, value);
            out[offset + (index < 0 ? feature.values.length : index)] = 1;
            offset += feature.values.length + 1;
        }
    }
    return out;
}
//# sourceMappingURL=preprocess.js.map