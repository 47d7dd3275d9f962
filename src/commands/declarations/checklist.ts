import type { CommandSpec } from "../spec.js";

export const checklistCommand: CommandSpec = {
  name: "checklist",
  description: "verify the deployment checklist: automatic checks with evidence, manual sign-offs, n/a with reasons",
  options: [
    { flags: "--url <url>", description: "the prediction server to check (default: serve.host and serve.port from the config)" },
    { flags: "--only <section>", description: "only this section or subsection" },
    { flags: "--junit <file>", description: "also write JUnit XML" },
    { flags: "--markdown <file>", description: "also write the checklist filled in ([x] with evidence)" },
    { flags: "--strict", description: "also require every manual item to be signed" },
    { flags: "--timeout <seconds>", description: "time limit of each check", default: "10" },
  ],
  run: async () => (await import("../checklist.js")).runChecklistCommand,
  subcommands: [
    {
      name: "sign",
      description: 'record a manual sign-off, e.g. mlops checklist sign "Verified by" --by "Ada Lovelace"',
      arguments: [{ name: "<item...>", description: "the item's number (as listed) or its exact words" }],
      options: [
        { flags: "--by <name>", description: "who signs", required: true },
        { flags: "--note <text>", description: "a note kept with the sign-off" },
        { flags: "--replace", description: "replace an existing sign-off (the old one stays in the history)" },
      ],
      run: async () => (await import("../checklist.js")).runChecklistSign,
    },
  ],
};
