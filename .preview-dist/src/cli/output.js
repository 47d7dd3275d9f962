import ora from "ora";
import { chalk, chalkStderr } from "./colors.js";
export { chalk, chalkStderr };
/**
 * Where everything a command says goes: results to stdout (one JSON document under --json),
 * and progress, notes and warnings to stderr, so stdout stays machine-readable.
 */
export class Output {
    json;
    constructor(options) {
        this.json = options.json;
    }
    /** The command's result: the JSON document under --json, else the human rendering. */
    result(data, human) {
        if (this.json)
            process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
        else {
            const text = human();
            if (text !== "")
                process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
        }
    }
    /** A progress note on stderr. */
    note(message) {
        process.stderr.write(`${message}\n`);
    }
    warn(message) {
        process.stderr.write(`${chalkStderr.yellow("warning:")} ${message}\n`);
    }
    /**
     * A spinner on stderr for anything that may take over a second. Off a TTY it prints plain
     * lines instead; under --json off a TTY it stays silent so CI logs hold only the result.
     */
    spinner(text) {
        return ora({ text, stream: process.stderr, isSilent: this.json && !process.stderr.isTTY }).start();
    }
}
//# sourceMappingURL=output.js.map