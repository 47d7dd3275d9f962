/**
 * The data a batch is compared with: what the active model was trained on (its manifest holds
 * that profile), else the first accepted batch. Undefined for a project's first batch.
 */
export async function loadDriftReference(client) {
    const active = await client.query(`SELECT v.version, v.manifest -> 'profile' AS profile
       FROM promotions p JOIN model_versions v ON v.id = p.to_version_id
      ORDER BY p.id DESC LIMIT 1`);
    const model = active.rows[0];
    if (model?.profile)
        return { profile: model.profile, source: `model ${model.version} training data` };
    const first = await client.query(`SELECT id, report -> 'profile' AS profile FROM batches
      WHERE status = 'accepted' AND source_kind <> 'feedback' AND report ? 'profile'
      ORDER BY id LIMIT 1`);
    const batch = first.rows[0];
    return batch?.profile ? { profile: batch.profile, source: `batch ${batch.id}` } : undefined;
}
//# sourceMappingURL=reference.js.map