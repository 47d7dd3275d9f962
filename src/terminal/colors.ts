import chalk, { chalkStderr } from "chalk";

/** NO_COLOR (https://no-color.org) wins over any detected colour support. */
if (process.env.NO_COLOR) {
  chalk.level = 0;
  chalkStderr.level = 0;
}

export { chalk, chalkStderr };
