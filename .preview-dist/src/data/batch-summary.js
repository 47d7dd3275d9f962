export {};
//# sourceMappingURL=batch-summary.js.map