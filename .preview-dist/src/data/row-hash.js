/** Hashes bytes start..end of `bytes` into `out`. */
export function hashBytes(bytes, start, end, out) {
    let h1 = 0xdeadbeef;
    let h2 = 0x41c6ce57;
    for (let i = start; i < end; i++) {
        const byte = bytes[i];
        h1 = Math.imul(h1 ^ byte, 2654435761);
        h2 = Math.imul(h2 ^ byte, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    out.hi = h1 >>> 0;
    out.lo = h2 >>> 0;
    return out;
}
export function hash64(text) {
    const bytes = Buffer.from(text, "utf8");
    return hashBytes(bytes, 0, bytes.length, { hi: 0, lo: 0 });
}
/** The hash as a signed 64-bit decimal (PostgreSQL's bigint), by long division in base 10^6. */
export function hashToDecimal({ hi, lo }) {
    let negative = false;
    if (hi >= 0x80000000) {
        negative = true;
        lo = (~lo + 1) >>> 0;
        hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
    }
    let digits = "";
    while (hi !== 0 || lo >= 1_000_000) {
        const carry = hi % 1_000_000;
        hi = Math.floor(hi / 1_000_000);
        const part = carry * 4294967296 + lo;
        lo = Math.floor(part / 1_000_000);
        digits = String(part % 1_000_000).padStart(6, "0") + digits;
    }
    digits = String(lo) + digits;
    return negative ? `-${digits}` : digits;
}
/**
 * The split follows from the row's hash alone, so a row keeps its split across runs and
 * re-ingestion: 70% train, 15% validation, 15% test.
 */
export function splitOf(hash) {
    const bucket = hash.lo % 100;
    if (bucket < 70)
        return "train";
    if (bucket < 85)
        return "validation";
    return "test";
}
/**
 * A set of row hashes in two typed arrays (open addressing), for the within-batch duplicate
 * check: a million entries cost 16 MB and no garbage, where a Set of strings cost ten times that.
 */
export class RowHashSet {
    his = new Uint32Array(1 << 16);
    los = new Uint32Array(1 << 16);
    used = new Uint8Array(1 << 16);
    size = 0;
    /** Adds the hash; false when it was already there. */
    add(hash) {
        if ((this.size + 1) * 2 > this.used.length)
            this.grow();
        const mask = this.used.length - 1;
        let slot = (hash.lo ^ Math.imul(hash.hi, 0x9e3779b1)) & mask;
        while (this.used[slot] === 1) {
            if (this.his[slot] === hash.hi && this.los[slot] === hash.lo)
                return false;
            slot = (slot + 1) & mask;
        }
        this.used[slot] = 1;
        this.his[slot] = hash.hi;
        this.los[slot] = hash.lo;
        this.size += 1;
        return true;
    }
    grow() {
        const { his, los, used } = this;
        this.his = new Uint32Array(used.length * 2);
        this.los = new Uint32Array(used.length * 2);
        this.used = new Uint8Array(used.length * 2);
        this.size = 0;
        for (let i = 0; i < used.length; i += 1)
            if (used[i] === 1)
                this.add({ hi: his[i], lo: los[i] });
    }
}
//# sourceMappingURL=row-hash.js.map