import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { encodeCopyRow } from "../db/copy.js";
/**
 * Invalid rows of a batch, written to a temporary file in COPY format while the valid rows
 * stream into the database, then copied into quarantine in one go. A file keeps memory flat
 * however broken the input is; the examples COPY holds the connection meanwhile.
 */
export class QuarantineSpill {
    batchId;
    dir;
    file;
    out;
    count = 0;
    constructor(batchId, dir, file, out) {
        this.batchId = batchId;
        this.dir = dir;
        this.file = file;
        this.out = out;
    }
    static async create(batchId) {
        const dir = await mkdtemp(path.join(os.tmpdir(), "mlops-quarantine-"));
        const file = path.join(dir, "rows.copy");
        return new QuarantineSpill(batchId, dir, file, createWriteStream(file));
    }
    async add(line, raw, problems) {
        this.count += 1;
        if (!this.out.write(encodeCopyRow([this.batchId, line, JSON.stringify(raw), JSON.stringify(problems)]))) {
            await once(this.out, "drain");
        }
    }
    async copyInto(client) {
        this.out.end();
        await once(this.out, "finish");
        if (this.count === 0)
            return 0;
        await pipeline(createReadStream(this.file), client.query(copyFrom("COPY quarantined_rows (batch_id, row_number, raw, reasons) FROM STDIN")));
        return this.count;
    }
    async dispose() {
        if (!this.out.closed)
            this.out.destroy();
        await rm(this.dir, { recursive: true, force: true });
    }
}
//# sourceMappingURL=quarantine-spill.js.map