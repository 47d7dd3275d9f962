/**
 * Secrets must never reach a terminal or a log. Connection URLs are the usual carrier:
 * `postgresql://user:secret@host/db` becomes `postgresql://user:***@host/db`.
 */
export function redactUrl(url) {
    try {
        const parsed = new URL(url);
        if (parsed.password !== "")
            parsed.password = "***";
        for (const key of [...parsed.searchParams.keys()]) {
            if (/pass|secret|token|key/i.test(key))
                parsed.searchParams.set(key, "***");
        }
        return parsed.toString();
    }
    catch {
        return redactSecrets(url);
    }
}
/** Masks passwords inside any URLs or `password=` pairs found in free text. */
export function redactSecrets(text) {
    return text
        .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/gi, "$1***$3")
        .replace(/\b(password|passwd|pwd|api[_-]?key|secret|token)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, "$1$2***");
}
//# sourceMappingURL=redact.js.map