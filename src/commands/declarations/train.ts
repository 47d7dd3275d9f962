import type { CommandSpec } from "../spec.js";

export const trainCommand: CommandSpec = {
  name: "train",
  description: "pretrain an autoencoder, train the classifier, write models/<version>/ and register a candidate",
  options: [
    { flags: "--epochs <n>", description: "classifier epochs (early stopping may end sooner; default from config)" },
    { flags: "--pretrain-epochs <n>", description: "autoencoder epochs (default from config)" },
    { flags: "--batch-size <n>", description: "batch size (default from config)" },
    { flags: "--learning-rate <x>", description: "Adam learning rate (default from config)" },
    { flags: "--hidden <sizes>", description: "hidden layer sizes, e.g. 64,32 (default from config)" },
    { flags: "--seed <n>", description: "seed: same data, seed and backend give identical weights (default from config)" },
    { flags: "--no-pretrain", description: "skip autoencoder pretraining" },
    {
      flags: "--trees",
      description:
        "small data: blend gradient-boosted trees into the network by a weight chosen out of fold (default from config: model.boostedTrees, on)",
    },
    { flags: "--no-trees", description: "small data: train the network without boosted trees, whatever the config says" },
    { flags: "--max-rows <n>", description: "train on at most n rows (a stable subset)" },
    { flags: "--backend <name>", description: "tensorflow, wasm or cpu (default: the fastest installed; or MLOPS_BACKEND)" },
    {
      flags: "--select <which>",
      description: "network (default) or best: keep the logistic-regression baseline when its validation F1 is higher",
    },
    {
      flags: "--allow-missing-features",
      description: "train even when stored rows lack a declared feature entirely (it is then always missing)",
    },
  ],
  run: async () => (await import("../train.js")).runTrain,
};
