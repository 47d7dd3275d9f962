import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
/** The server's Prometheus metrics, on a registry of its own (tests build many apps). */
export function createMetrics(log, modelVersion) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: "mlops_" });
    const predictions = new RequestCounter(registry, {
        name: "mlops_predictions_total",
        help: "Predictions answered, by model version and predicted label.",
        labelNames: ["version", "outcome"],
    });
    const latency = new RequestHistogram(registry, {
        name: "mlops_request_duration_seconds",
        help: "Request handling time by route and status code.",
        labelNames: ["route", "status"],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    });
    const batchSize = new RequestHistogram(registry, {
        name: "mlops_predict_batch_size",
        help: "Instances per /predict request.",
        labelNames: [],
        buckets: [1, 2, 5, 10, 50, 100, 500, 1000, 5000],
    });
    const batchSizes = batchSize.series();
    const reloads = new Counter({ name: "mlops_model_reloads_total", help: "Model reloads by result.", labelNames: ["result"], registers: [registry] });
    new Gauge({
        name: "mlops_prediction_log_queue",
        help: "Predictions buffered in memory, not yet written to the database.",
        registers: [registry],
        collect() {
            this.set(log()?.snapshot().buffered ?? 0);
        },
    });
    new Gauge({
        name: "mlops_prediction_log_spilled",
        help: "Predictions written to the spill file while the database was down (replayed when it returns).",
        registers: [registry],
        collect() {
            this.set(log()?.snapshot().spilled ?? 0);
        },
    });
    new Gauge({
        name: "mlops_prediction_log_database_up",
        help: "1 when the last write to the database succeeded.",
        registers: [registry],
        collect() {
            this.set(log()?.snapshot().databaseUp === false ? 0 : 1);
        },
    });
    new Gauge({
        name: "mlops_model_info",
        help: "The model version being served (value 1).",
        labelNames: ["version"],
        registers: [registry],
        collect() {
            this.reset();
            const version = modelVersion();
            if (version)
                this.set({ version }, 1);
        },
    });
    return {
        registry,
        countPrediction: (version, positive) => {
            predictions.series(version, positive ? "positive" : "negative").count += 1;
        },
        observeLatency: (route, status, seconds) => latency.series(route, String(status)).observe(seconds),
        observeBatchSize: (instances) => batchSizes.observe(instances),
        reloads,
    };
}
/**
 * A metric counted on every request, kept in plain numbers per label combination and turned
 * into prom-client's exposition only when /metrics is scraped. prom-client's own inc and
 * observe validate and hash the labels (and observe allocates a closure) on every call: for
 * /predict's counter and two histograms that was about 22,000 instructions a request, a
 * fifteenth of the server's main thread (callgrind). Registered through the registry's
 * metric interface (`name`, `help`, `type`, `aggregator`, `get()`), which the registry
 * formats like its own; the cast is needed because prom-client types that as its classes.
 */
class RequestMetric {
    aggregator = "sum";
    name;
    help;
    #labelNames;
    /** By the first label's value, then the second's (unlabelled metrics use ""). */
    #series = new Map();
    constructor(registry, config) {
        if (config.labelNames.length > 2)
            throw new Error(`${config.name}: at most two labels`);
        this.name = config.name;
        this.help = config.help;
        this.#labelNames = config.labelNames;
        registry.registerMetric(this);
    }
    /** The numbers for these label values (in labelNames order), made on first use. */
    series(first = "", second = "") {
        let bySecond = this.#series.get(first);
        if (bySecond === undefined)
            this.#series.set(first, (bySecond = new Map()));
        let entry = bySecond.get(second);
        if (entry === undefined) {
            const labels = Object.fromEntries(this.#labelNames.map((name, i) => [name, i === 0 ? first : second]));
            bySecond.set(second, (entry = { labels, series: this.create() }));
        }
        return entry.series;
    }
    async get() {
        const values = [...this.#series.values()].flatMap((bySecond) => [...bySecond.values()]).flatMap(({ labels, series }) => this.export(labels, series));
        return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    }
}
class RequestCounter extends RequestMetric {
    type = "counter";
    create() {
        return { count: 0 };
    }
    export(labels, series) {
        return [{ labels, value: series.count }];
    }
}
/** Bucket counts, sum and count of one label combination; `observe` is a search and three writes. */
class Buckets {
    bounds;
    /** Per upper bound, then one for +Inf: not cumulative until exported. */
    counts;
    sum = 0;
    count = 0;
    constructor(bounds) {
        this.bounds = bounds;
        this.counts = new Float64Array(bounds.length + 1);
    }
    observe(value) {
        const { bounds } = this;
        let i = 0;
        while (i < bounds.length && value > bounds[i])
            i += 1;
        this.counts[i] = this.counts[i] + 1;
        this.sum += value;
        this.count += 1;
    }
}
class RequestHistogram extends RequestMetric {
    type = "histogram";
    #bounds;
    constructor(registry, config) {
        super(registry, config);
        this.#bounds = [...config.buckets].sort((a, b) => a - b);
    }
    create() {
        return new Buckets(this.#bounds);
    }
    export(labels, series) {
        let cumulative = 0;
        const bucket = `${this.name}_bucket`;
        return [
            ...this.#bounds.map((le, i) => ({ metricName: bucket, labels: { le, ...labels }, value: (cumulative += series.counts[i]) })),
            { metricName: bucket, labels: { le: "+Inf", ...labels }, value: series.count },
            { metricName: `${this.name}_sum`, labels, value: series.sum },
            { metricName: `${this.name}_count`, labels, value: series.count },
        ];
    }
}
//# sourceMappingURL=metrics.js.map