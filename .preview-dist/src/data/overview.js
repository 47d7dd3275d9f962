/** What `mlops data` shows: stored rows by split and label, quarantine, and recent batches. */
export async function dataOverview(client, limit) {
    // One connection runs one query at a time; these are all quick.
    const counts = await client.query("SELECT split, label, count(*)::text AS n FROM examples GROUP BY split, label");
    const quarantined = await client.query("SELECT count(*)::text AS n FROM quarantined_rows");
    const feedback = await client.query("SELECT count(*)::text AS n FROM feedback");
    const batches = await client.query(`SELECT id, status, source_kind, source, rows_read, rows_accepted, rows_quarantined, rows_duplicate, drift ->> 'verdict' AS drift, finished_at
       FROM batches ORDER BY id DESC LIMIT $1`, [limit]);
    const empty = () => ({ positive: 0, negative: 0, unlabelled: 0 });
    const bySplit = { train: empty(), validation: empty(), test: empty() };
    let total = 0;
    for (const row of counts.rows) {
        const n = Number(row.n);
        total += n;
        const bucket = bySplit[row.split];
        if (row.label === 1)
            bucket.positive += n;
        else if (row.label === 0)
            bucket.negative += n;
        else
            bucket.unlabelled += n;
    }
    return {
        examples: { total, bySplit },
        quarantined: Number(quarantined.rows[0]?.n ?? 0),
        feedback: Number(feedback.rows[0]?.n ?? 0),
        batches: batches.rows.map((b) => ({
            id: b.id,
            status: b.status,
            sourceKind: b.source_kind,
            source: b.source,
            rowsRead: b.rows_read,
            rowsAccepted: b.rows_accepted,
            rowsQuarantined: b.rows_quarantined,
            rowsDuplicate: b.rows_duplicate,
            drift: b.drift,
            finishedAt: b.finished_at.toISOString(),
        })),
    };
}
export async function quarantineEntries(client, batchId, limit) {
    const result = await client.query(`SELECT batch_id, row_number, reasons, raw FROM quarantined_rows ${batchId === undefined ? "" : "WHERE batch_id = $2"}
      ORDER BY batch_id DESC, row_number LIMIT $1`, batchId === undefined ? [limit] : [limit, batchId]);
    return result.rows.map((r) => ({ batchId: r.batch_id, rowNumber: r.row_number, reasons: r.reasons, raw: r.raw }));
}
//# sourceMappingURL=overview.js.map