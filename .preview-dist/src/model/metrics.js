/**
 * Binary-classification metrics for `mlops train` (choosing the decision threshold) and
 * `mlops evaluate` (the F1 gate). Everything here is pure and returns only finite numbers, so a
 * result can go straight into a JSON document or a database row.
 */
/** Probabilities are clipped this far from 0 and 1 so that one confident mistake stays finite. */
export const LOG_LOSS_EPSILON = 1e-7;
/** Predicted positive when p >= threshold. */
export function confusionAt(labels, probabilities, threshold) {
    checkInputs(labels, probabilities);
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (let i = 0; i < labels.length; i++) {
        const predicted = probabilities[i] >= threshold;
        if (labels[i] === 1) {
            if (predicted)
                tp++;
            else
                fn++;
        }
        else if (predicted)
            fp++;
    }
    return { tp, fp, tn: labels.length - tp - fp - fn, fn };
}
export function computeMetrics(labels, probabilities, threshold) {
    const confusion = confusionAt(labels, probabilities, threshold);
    const { tp, fp, tn, fn } = confusion;
    const rows = labels.length;
    return {
        rows,
        threshold,
        f1: f1Of(tp, fp, fn),
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn),
        accuracy: ratio(tp + tn, rows),
        rocAuc: rocAuc(labels, probabilities),
        logLoss: logLoss(labels, probabilities),
        positiveRate: ratio(tp + fp, rows),
        labelPositiveRate: ratio(tp + fn, rows),
        confusion,
    };
}
/** Mean binary cross-entropy, 0 for no rows. */
export function logLoss(labels, probabilities) {
    checkInputs(labels, probabilities);
    let sum = 0;
    for (let i = 0; i < labels.length; i++) {
        const p = Math.min(Math.max(probabilities[i], LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
        sum -= labels[i] === 1 ? Math.log(p) : Math.log(1 - p);
    }
    return ratio(sum, labels.length);
}
/**
 * Area under the ROC curve as the Mann–Whitney U statistic: the share of (positive, negative)
 * pairs ranked correctly, a tied pair counting one half, which is what averaging tied ranks
 * gives. Null when either class is absent.
 */
export function rocAuc(labels, probabilities) {
    const { positives, negatives } = sortedByClass(labels, probabilities);
    if (positives.length === 0 || negatives.length === 0)
        return null;
    // Walk both ascending lists one distinct score at a time. The pair counts are integers (or
    // halves) below 2^53 for any array that fits in memory, so the sum is exact until the division.
    let correctPairs = 0;
    let negativesBelow = 0;
    let i = 0;
    let j = 0;
    while (i < positives.length) {
        const score = Math.min(positives[i], j < negatives.length ? negatives[j] : Infinity);
        let positivesHere = 0;
        let negativesHere = 0;
        for (; i < positives.length && positives[i] === score; i++)
            positivesHere++;
        for (; j < negatives.length && negatives[j] === score; j++)
            negativesHere++;
        correctPairs += positivesHere * (negativesBelow + negativesHere / 2);
        negativesBelow += negativesHere;
    }
    return correctPairs / (positives.length * negatives.length);
}
/**
 * The threshold maximising F1 on these data, scanning all distinct probabilities in one sorted
 * pass (O(n log n)). Among thresholds with equal F1 the one closest to 0.5 wins, and of two
 * equally close the higher, so the choice is deterministic. With no positives nothing can be
 * recalled: the answer is threshold 0.5 and F1 0.
 */
export function bestF1Threshold(labels, probabilities) {
    const { positives, negatives } = sortedByClass(labels, probabilities);
    const best = { threshold: 0.5, f1: 0 };
    if (positives.length === 0)
        return best;
    // Walk from the highest score down: after taking every row scoring exactly `threshold`, the
    // counts are those predicted positive at that threshold. The lowest threshold recalls every
    // positive, so some F1 beats the placeholder 0 and the answer is always an observed score.
    let tp = 0;
    let fp = 0;
    let i = positives.length - 1;
    let j = negatives.length - 1;
    while (i >= 0 || j >= 0) {
        const threshold = Math.max(i >= 0 ? positives[i] : -Infinity, j >= 0 ? negatives[j] : -Infinity);
        for (; i >= 0 && positives[i] === threshold; i--)
            tp++;
        for (; j >= 0 && negatives[j] === threshold; j--)
            fp++;
        const f1 = f1Of(tp, fp, positives.length - tp);
        if (f1 > best.f1 || (f1 === best.f1 && closerToHalf(threshold, best.threshold))) {
            best.threshold = threshold;
            best.f1 = f1;
        }
    }
    return best;
}
/** 2PR/(P+R) written over counts, so equal F1 values compare equal in floating point. */
function f1Of(tp, fp, fn) {
    return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
function ratio(numerator, denominator) {
    return denominator === 0 ? 0 : numerator / denominator;
}
function closerToHalf(candidate, current) {
    const candidateDistance = Math.abs(candidate - 0.5);
    const currentDistance = Math.abs(current - 0.5);
    return candidateDistance < currentDistance || (candidateDistance === currentDistance && candidate > current);
}
/**
 * The scores of each class, ascending. Splitting by class lets the native numeric sort of a
 * Float64Array do the O(n log n) work, with no comparator and no index array; the sorted
 * lists are then merged by score.
 */
function sortedByClass(labels, probabilities) {
    checkInputs(labels, probabilities);
    let positiveCount = 0;
    for (let i = 0; i < labels.length; i++)
        positiveCount += labels[i];
    const positives = new Float64Array(positiveCount);
    const negatives = new Float64Array(labels.length - positiveCount);
    let p = 0;
    let n = 0;
    for (let i = 0; i < labels.length; i++) {
        if (labels[i] === 1)
            positives[p++] = probabilities[i];
        else
            negatives[n++] = probabilities[i];
    }
    positives.sort();
    negatives.sort();
    return { positives, negatives };
}
/** Bad inputs are a caller's bug; failing loudly keeps NaN out of stored metrics. */
function checkInputs(labels, probabilities) {
    if (labels.length !== probabilities.length) {
        throw new RangeError(`${labels.length} labels but ${probabilities.length} probabilities`);
    }
    for (let i = 0; i < labels.length; i++) {
        const label = labels[i];
        const p = probabilities[i];
        if (label > 1)
            throw new RangeError(`label ${label} at row ${i} is neither 0 nor 1`);
        if (!(p >= 0 && p <= 1))
            throw new RangeError(`probability ${p} at row ${i} is outside [0, 1]`);
    }
}
//# sourceMappingURL=metrics.js.map