import { describe, expect, it } from "vitest";
import { singleStatement } from "../../src/data/sources/sql-statement.js";
import { MlopsError } from "../../src/errors.js";

const refused = (sql: string) => {
  try {
    singleStatement(sql);
  } catch (error) {
    expect(error).toBeInstanceOf(MlopsError);
    expect((error as MlopsError).exitCode).toBe(2);
    return (error as MlopsError).message;
  }
  throw new Error(`accepted: ${sql}`);
};

describe("singleStatement (collect --query)", () => {
  it("accepts one statement, with ; ( and ) hidden in strings, names, comments and dollar quotes", () => {
    expect(singleStatement("select 1 as x01;  ")).toBe("select 1 as x01");
    for (const sql of [
      "select ';)' as a, \"odd;)name\" from t",
      "select E'it\\'s;)' as a",
      "select 1 -- ; drop table t )\n",
      "select /* ; ) /* nested ; */ */ 1",
      "select $$;)$$ as a, $tag$ ; $tag$ as b, x$1 from t",
      "select 'a''b;' as c, (1 + (2)) as d",
    ]) {
      expect(singleStatement(sql), sql).toBe(sql.trim());
    }
  });

  it("refuses a second statement or a parenthesis that breaks out of COPY (...)", () => {
    expect(refused("select 1 as x01) to stdout; drop table victim; copy (select 1")).toContain("exactly one statement");
    expect(refused("select 1; select 2")).toContain("`;`");
    expect(refused("select 1) to stdout")).toContain("parenthesis");
    expect(refused("select (1")).toContain("parenthesis");
    expect(refused("select 'open")).toContain("string");
    expect(refused("select /* open")).toContain("comment");
    expect(refused("select $x$ open")).toContain("$x$");
    expect(refused("  ;  ")).toContain("empty");
  });
});
