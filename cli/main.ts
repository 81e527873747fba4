/** The `netloom` command. Every failure is one line on stderr and a non-zero exit; never a stack trace. */
import { exportCommand } from './commands/export.ts';
import { generateCommand } from './commands/generate.ts';
import { importCommand } from './commands/import.ts';
import { info } from './commands/info.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { stepCommand } from './commands/step.ts';
import { trainCommand } from './commands/train.ts';
import { templateIds, UsageError, UserError } from './files.ts';

const HELP = `netloom — design neural networks, see every shape and parameter count, compile them to ONNX

Usage:
  netloom info <model> [--json]                        Summarise a model: shapes, parameters, MACs, diagnostics
  netloom info --template <id> [--json]                The same for a built-in template
  netloom export <model> -o out.onnx|out.netloom       Compile to ONNX [--opset 17..21] [--seed N] (or --template <id>)
  netloom export <model> --format pytorch -o model.py  The model as PyTorch code (+ model.safetensors when it has no weights file)
  netloom export <model> --format onnx-text -o out.txt ONNX text [--layer ID [--training --optimizer O --loss L]]; -o - prints it
  netloom import <model.onnx> -o model.json|model.netloom
                                                       Open an ONNX model as a Netloom graph (+ model.safetensors)
  netloom run <model> --input x.npy -o out.npy
                                                       Run on ONNX Runtime [--input name=y.npy ...] [--ep cpu|cuda|dml|webgpu]
                                                       [--allow-fallback]; several outputs: -o names a folder
  netloom train <model|--template id> (--data train.npz|train.csv|images/ [--val …] [--label column] | --dataset mnist|fashion-mnist|spiral|xor|moons|blobs
               | --text file.txt [--level char|word] [--seq-len L])
               --epochs E --batch-size B --optimizer sgd|momentum|nesterov|adam|adamw|adagrad|rmsprop|adadelta|perceptron --lr X
               [--momentum M] [--weight-decay W] [--loss cross-entropy|mse|l1|hinge|bce|binary-hinge|perceptron] [--clip-norm C] [--l1 λ] [--l2 λ]
               [--truncate-bptt K]
               [--schedule step|cosine] [--warmup N] [--no-shuffle] [--seed S] [--ep cpu|cuda|dml|webgpu] [--checkpoint file]
               -o trained.onnx|trained.json|trained.netloom [--json]            Train on ONNX Runtime
  netloom generate <model.json|model.onnx> | --template <id>
               [--prompt TEXT] [--length N] [--temperature T] [--top-k K] [--seed S]
               [--text file.txt] [--level char|word] [--no-cache]   Sample text from a language model
  netloom step <model.json|model.onnx> --input name=values|file.npy ... [--target values|file.npy] [--loss cross-entropy|mse|...]
               [--grad-output name=values] [--param key=values] [--layer id ...] [--update [--optimizer sgd|... --lr X]] [--check] [--json]
                                                       One training step, layer by layer: forward values and formulas,
                                                       then upstream, local and downstream gradients (or --template <id>)
  netloom templates                                    List the built-in templates
  netloom schema [-o netloom.model.schema.json]        The model document's JSON Schema (for editors; saved documents name it in $schema)
  netloom --help | --version

A <model> is a model document (model.json, with its weights in a model.safetensors sidecar), a .netloom
bundle (the document and its weights in one file), or an ONNX file.

Exit status: 0 on success, 1 when a model has errors (info), 2 for bad usage, files or models.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  info,
  export: exportCommand,
  import: importCommand,
  run: runCommand,
  train: trainCommand,
  generate: generateCommand,
  step: stepCommand,
  schema: schemaCommand,
  templates: async () => {
    console.log((await templateIds()).join('\n'));
    return 0;
  },
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version') {
    console.log('0.1.0');
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command "${command}"; see netloom --help`);
  return run(rest);
}

// A reader that goes away (`netloom info m.json | head -1`) closes stdout: printing stops quietly, and the
// command carries on to write its files and exit as it would have.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') {
    console.error(`netloom: cannot print (${e.code ?? e.message})`);
    process.exitCode = 2;
  }
});

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  const message = e instanceof UserError ? e.message : `internal error: ${(e as Error)?.message ?? e}`;
  console.error(`netloom: ${message}`);
  process.exitCode = 2;
}
