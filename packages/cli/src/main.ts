/**
 * The `weft` command line. `main(argv)` parses with commander, runs one command and returns the exit
 * code: 0 success, 1 a failed/cancelled run, failed tests or an invalid document (validate), 2 bad
 * input or usage, 130 a second Ctrl-C. Errors print one line; `--debug` adds the stack trace.
 */
import { createRequire } from 'node:module';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { GRAPH_FORMATS, OUTPUT_MODES, PROVIDER_CHOICES, STORE_CHOICES } from './choices.js';
import { CliError, EXIT } from './errors.js';
import type { Io } from './execute.js';
import { colorsFor, writeLine } from './output.js';

/** The package's version (one version for every @weft package: `pnpm bump`). src/ and dist/ sit beside package.json. */
export const VERSION: string = createRequire(import.meta.url)('../package.json').version;

function providerOption(description: string): Option {
  return new Option('--provider <name>', description).choices(PROVIDER_CHOICES).env('WEFT_PROVIDER');
}

/** Commander collector for a repeatable flag. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Commander collector for repeatable `KEY=VALUE` flags. */
function keyValue(flag: string) {
  return (value: string, previous: string[] | undefined) => {
    if (!value.includes('=')) throw new InvalidArgumentError(`expected KEY=VALUE for ${flag}.`);
    return [...(previous ?? []), value];
  };
}

function dbOption(): Option {
  return new Option(
    '--db <path>',
    'the run database (default: WEFT_DB, else "db" in ./weft.json, else ./.weft/weft.db)',
  );
}

function outputOption(): Option {
  return new Option('-o, --output <mode>', 'what to print at the end')
    .choices(OUTPUT_MODES)
    .default('result');
}

export function createProgram(io: Io, setExit: (code: number) => void): Command {
  const program = new Command('weft')
    .description('Validate, run, test and draw Weft workflow documents.')
    .version(VERSION, '-V, --version')
    .option('--debug', 'print stack traces of errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: (text, write) => write(colorsFor(io.stderr, io.env).red(text)),
    });

  program
    .command('validate')
    .description('report every problem of every document (warnings apart); exit 1 on errors')
    .argument('<file...>', 'workflow documents (JSON)')
    .option('--json', 'print the reports as JSON')
    .option(
      '--plugin <module>',
      'a module exporting host `steps` (their types are valid) and `tools`; repeatable',
      collect,
    )
    .addOption(
      new Option(
        '--language <language>',
        'the expression language of documents that do not say (default jsonata)',
      ).choices(['jsonata', 'javascript']),
    )
    .action(
      async (
        files: string[],
        flags: { json?: boolean; plugin?: string[]; language?: 'jsonata' | 'javascript' },
      ) => {
        // Commands are loaded when used: startup stays fast and one command's imports never slow another.
        const { validateCommand } = await import('./commands/validate.js');
        const { loadPlugins } = await import('./plugin.js');
        const plugins = await loadPlugins(flags.plugin ?? []);
        // The providers `weft run` would use (keys in the environment, else the dry run's): AUTO_UNSERVED.
        const { setupProviders } = await import('./providers.js');
        const { emptyFixtures } = await import('./fixtures.js');
        const setup = await setupProviders({
          choice: undefined,
          env: io.env,
          names: [],
          fixtures: emptyFixtures(),
          fixturesSource: null,
          explicitFixtures: false,
        });
        setExit(
          validateCommand(
            files,
            {
              json: flags.json === true,
              providers: setup.providers,
              stepTypes: Object.keys(plugins.steps),
              tools: Object.keys(plugins.tools),
              ...(flags.language === undefined ? {} : { language: flags.language }),
            },
            io,
          ),
        );
      },
    );

  program
    .command('run')
    .description('run a draft or version document locally, with live progress')
    .argument('<file>', 'workflow document (JSON)')
    .option('-i, --input <json|@file>', 'the run input: JSON, @file.json, or @- for stdin')
    .option(
      '--file <FIELD=PATH>',
      'a file input read from PATH into field FIELD (at most 20 MiB); repeatable',
      keyValue('--file'),
    )
    .option('--var <KEY=VALUE>', 'a variable ($vars.KEY); repeatable', keyValue('--var'))
    .option(
      '--secret <KEY=VALUE>',
      'a secret variable (redacted from the run); repeatable',
      keyValue('--secret'),
    )
    .option('--from-step <key>', 'start from this step only')
    .option(
      '--from-run <file>',
      'replay a run saved by `weft run -o run` (or --json): its input, and with --from-step the outputs upstream of that step',
    )
    .option('--plugin <module>', 'a module exporting host `steps` and `services`; repeatable', collect)
    .addOption(
      providerOption(
        'who answers model steps (default: a real provider if its API key is set, else scripted)',
      ),
    )
    .option(
      '--fixtures <file>',
      'scripted replies and HTTP answers (default: <name>.fixtures.json beside the file)',
    )
    .addOption(outputOption())
    .option('--json', 'print the run events as NDJSON on stdout instead of progress')
    .addOption(
      new Option('--store <kind>', 'where the run is recorded (memory: nowhere)')
        .choices(STORE_CHOICES)
        .default('sqlite'),
    )
    .addOption(dbOption())
    .addOption(
      new Option(
        '--language <language>',
        'the expression language of documents that do not say (default jsonata)',
      ).choices(['jsonata', 'javascript']),
    )
    .action(async (file: string, flags: Record<string, any>) => {
      const { runCommand } = await import('./commands/run.js');
      setExit(
        await runCommand(
          file,
          {
            input: flags.input,
            file: flags.file ?? [],
            var: flags.var ?? [],
            secret: flags.secret ?? [],
            fromStep: flags.fromStep,
            fromRun: flags.fromRun,
            plugin: flags.plugin ?? [],
            provider: flags.provider,
            fixtures: flags.fixtures,
            output: flags.output,
            json: flags.json === true,
            store: flags.store,
            db: flags.db,
            language: flags.language,
          },
          io,
        ),
      );
    });

  const runs = program
    .command('runs')
    .description('the runs weft run recorded: list, show, replay, resume, cancel, wait');

  runs
    .command('list')
    .description('the recorded runs, newest first: id, workflow, status, started, duration, credits')
    .option('--app <id>', 'the app whose runs to list', 'local')
    .option('--workflow <id>', 'only the runs of this workflow')
    .option('--status <status...>', 'only runs with these statuses (COMPLETED, FAILED, …)')
    .option('--limit <n>', 'at most this many (1–100)', '20')
    .option('--cursor <cursor>', 'the next page (printed after a full page)')
    .option('--json', 'print the page as JSON ({ data, next_cursor })')
    .addOption(dbOption())
    .action(async (flags: Record<string, any>) => {
      const { runsListCommand } = await import('./commands/runs.js');
      setExit(
        await runsListCommand(
          {
            app: flags.app,
            workflow: flags.workflow,
            status: flags.status,
            limit: flags.limit,
            cursor: flags.cursor,
            json: flags.json === true,
            db: flags.db,
          },
          io,
        ),
      );
    });

  runs
    .command('show')
    .description("a recorded run with its step tree, like weft run's summary")
    .argument('<id>', 'the run id (weft runs list)')
    .addOption(outputOption())
    .addOption(dbOption())
    .action(async (id: string, flags: Record<string, any>) => {
      const { runsShowCommand } = await import('./commands/runs.js');
      setExit(await runsShowCommand(id, { output: flags.output, db: flags.db }, io));
    });

  /** The options of the commands that drive a recorded run here (replay, resume), and their flags. */
  const drivingOptions = (command: Command) =>
    command
      .addOption(providerOption('who answers model steps (default as for weft run)'))
      .option(
        '--fixtures <file>',
        'scripted replies (default: <name>.fixtures.json beside the workflow file)',
      )
      .option('--var <KEY=VALUE>', 'a variable ($vars.KEY); repeatable', keyValue('--var'))
      .option('--secret <KEY=VALUE>', 'a secret variable; repeatable', keyValue('--secret'))
      .addOption(outputOption())
      .option('--json', 'print the run events as NDJSON on stdout instead of progress')
      .addOption(dbOption());
  const drivingFlags = (flags: Record<string, any>) => ({
    provider: flags.provider,
    fixtures: flags.fixtures,
    var: flags.var ?? [],
    secret: flags.secret ?? [],
    output: flags.output,
    json: flags.json === true,
    db: flags.db,
  });

  drivingOptions(
    runs
      .command('replay')
      .description('run a recorded run again: same pinned version and input, with live progress')
      .argument('<id>', 'the run id')
      .option('--from-step <key>', 'keep the records of the steps not downstream of this step; run the rest'),
  ).action(async (id: string, flags: Record<string, any>) => {
    const { runsReplayCommand } = await import('./commands/runs.js');
    setExit(await runsReplayCommand(id, { fromStep: flags.fromStep, ...drivingFlags(flags) }, io));
  });

  drivingOptions(
    runs
      .command('resume')
      .description(
        'resume a run whose weft process died, from its journal: completed steps are not run again (WEFT_LEASE_MS: the lease)',
      )
      .argument('<id>', 'the run id (weft runs list shows it as RUNNING (no live owner))'),
  ).action(async (id: string, flags: Record<string, any>) => {
    const { runsResumeCommand } = await import('./commands/runs.js');
    setExit(await runsResumeCommand(id, drivingFlags(flags), io));
  });

  runs
    .command('cancel')
    .description('cancel a running run (a weft process running it stops it within a second)')
    .argument('<id>', 'the run id')
    .option('--reason <text>', 'why (recorded on the run)')
    .addOption(dbOption())
    .action(async (id: string, flags: Record<string, any>) => {
      const { runsCancelCommand } = await import('./commands/runs.js');
      setExit(await runsCancelCommand(id, { reason: flags.reason, db: flags.db }, io));
    });

  runs
    .command('wait')
    .description('wait until a run ends, then print it (exit 0 COMPLETED, 1 otherwise, 3 on --timeout)')
    .argument('<id>', 'the run id')
    .option('--timeout <seconds>', 'give up after this long', '600')
    .addOption(outputOption())
    .addOption(dbOption())
    .action(async (id: string, flags: Record<string, any>) => {
      const { runsWaitCommand } = await import('./commands/runs.js');
      setExit(await runsWaitCommand(id, { timeout: flags.timeout, output: flags.output, db: flags.db }, io));
    });

  program
    .command('test')
    .description(
      "run the workflow's tests (<name>.tests.json beside it, or embedded) and check each expectation",
    )
    .argument('<file>', 'workflow document (or its .tests.json)')
    .addOption(providerOption('who answers model steps (default: scripted, whatever keys are set)'))
    .option('--fixtures <file>', 'base fixtures (default: <name>.fixtures.json beside the workflow)')
    .option('--var <KEY=VALUE>', 'a variable ($vars.KEY); repeatable', keyValue('--var'))
    .option('--secret <KEY=VALUE>', 'a secret variable; repeatable', keyValue('--secret'))
    .option('--plugin <module>', 'a module exporting host `steps` and `services`; repeatable', collect)
    .option('--json', 'print the report as JSON')
    .addOption(
      new Option(
        '--language <language>',
        'the expression language of documents that do not say (default jsonata)',
      ).choices(['jsonata', 'javascript']),
    )
    .action(async (file: string, flags: Record<string, any>) => {
      const { testCommand } = await import('./commands/test.js');
      setExit(
        await testCommand(
          file,
          {
            provider: flags.provider,
            fixtures: flags.fixtures,
            var: flags.var ?? [],
            secret: flags.secret ?? [],
            plugin: flags.plugin ?? [],
            json: flags.json === true,
            language: flags.language,
          },
          io,
        ),
      );
    });

  program
    .command('graph')
    .description('draw the step graph (Mermaid or Graphviz DOT); with --run, mark each step with its status')
    .argument('<file>', 'workflow document (JSON)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(GRAPH_FORMATS).default('mermaid'))
    .option('--run <file>', 'a run (weft run --output run) or its events (weft run --json)')
    .action(async (file: string, flags: { format: 'mermaid' | 'dot'; run?: string }) => {
      const { graphCommand } = await import('./commands/graph.js');
      setExit(graphCommand(file, flags, io));
    });

  program
    .command('worker')
    .description(
      'execute the runs enqueued in a PostgreSQL database (weft run --db postgres://…), with other workers',
    )
    .addOption(new Option('--db <url>', 'the PostgreSQL database the workers share (default: WEFT_DB)'))
    .option('--concurrency <n>', 'runs executed at once by this process', '10')
    .option('--plugin <module>', 'a module exporting host `steps` and `services`; repeatable', collect)
    .addOption(
      providerOption(
        'who answers model steps (default: a real provider if its API key is set, else scripted)',
      ),
    )
    .option('--fixtures <file>', 'scripted replies for the dry-run provider')
    .option(
      '--grace <ms>',
      'on SIGTERM, how long the running steps may take to settle before their runs are handed to other workers',
      '30000',
    )
    .action(async (flags: Record<string, any>) => {
      const { workerCommand } = await import('./commands/worker.js');
      setExit(
        await workerCommand(
          {
            db: flags.db,
            concurrency: flags.concurrency,
            grace: flags.grace,
            plugin: flags.plugin ?? [],
            provider: flags.provider,
            fixtures: flags.fixtures,
          },
          io,
        ),
      );
    });

  program
    .command('serve')
    .description(
      'serve the Workflows API over HTTP for the workflows of a folder; prints the URL and a first API key',
    )
    .argument('[folder]', 'a folder of workflow documents (name.json, or sub/workflow.json)')
    .option('-p, --port <port>', 'the port (0: any free port)', '8787')
    .option('--host <host>', 'the address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--app <app>', 'the app the workflows belong to, and the first key is for', 'default')
    .addOption(dbOption())
    .addOption(
      new Option(
        '--store <kind>',
        'where workflows, runs and keys are kept (memory: this process only)',
      ).choices(STORE_CHOICES),
    )
    .addOption(
      providerOption(
        'who answers model steps (default: a real provider if its API key is set, else scripted)',
      ),
    )
    .option('--fixtures <file>', 'scripted replies for the dry-run provider')
    .option(
      '--grace <ms>',
      'on SIGTERM, how long runs in progress may take to end before they are suspended (--store memory: cancelled)',
      '30000',
    )
    .option(
      '--suspend-grace <ms>',
      'then, how long their running steps may take to settle before they are abandoned (they run again on resume)',
      '10000',
    )
    .action(async (folder: string | undefined, flags: Record<string, any>) => {
      const { serveCommand } = await import('./commands/serve.js');
      setExit(
        await serveCommand(
          folder,
          {
            port: flags.port,
            host: flags.host,
            app: flags.app,
            store: flags.store,
            db: flags.db,
            provider: flags.provider,
            fixtures: flags.fixtures,
            grace: flags.grace,
            suspendGrace: flags.suspendGrace,
          },
          io,
        ),
      );
    });

  const keys = program.command('keys').description('API keys of the HTTP server (weft serve)');
  keys
    .command('create')
    .description('create an API key for an app and print it (once: only its hash is kept)')
    .requiredOption('--app <app>', 'the app the key acts for')
    .option('--name <name>', 'a label (where the key is used)')
    .addOption(dbOption())
    .option('--json', 'print { key, id, app_id } as JSON')
    .action(async (flags: Record<string, any>) => {
      const { keysCreateCommand } = await import('./commands/keys.js');
      const options = { app: flags.app, name: flags.name, db: flags.db, json: flags.json === true };
      setExit(await keysCreateCommand(options, io));
    });
  keys
    .command('list')
    .description('list an app’s API keys (ids, dates, names; never the keys)')
    .requiredOption('--app <app>', 'the app')
    .addOption(dbOption())
    .option('--json', 'print them as JSON')
    .action(async (flags: Record<string, any>) => {
      const { keysListCommand } = await import('./commands/keys.js');
      setExit(await keysListCommand({ app: flags.app, db: flags.db, json: flags.json === true }, io));
    });
  keys
    .command('revoke')
    .description('delete an API key: requests with it are refused from now on')
    .argument('<id>', 'the key’s id (weft keys list)')
    .addOption(dbOption())
    .action(async (id: string, flags: Record<string, any>) => {
      const { keysRevokeCommand } = await import('./commands/keys.js');
      setExit(await keysRevokeCommand(id, { db: flags.db, json: false }, io));
    });

  program
    .command('schema')
    .description('print the JSON Schema of the workflow document model')
    .action(async () => {
      const { schemaCommand } = await import('./commands/schema.js');
      setExit(schemaCommand(io));
    });

  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  let code: number = EXIT.OK;
  const program = createProgram(io, (c) => {
    code = c;
  });
  const debug = argv.includes('--debug') || (io.env.WEFT_DEBUG ?? '') !== '';
  try {
    if (argv.length === 0) {
      program.outputHelp();
      return EXIT.USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    return report(error, io, debug);
  }
}

function report(error: unknown, io: Io, debug: boolean): number {
  const c = colorsFor(io.stderr, io.env);
  if (error instanceof CommanderError) {
    // commander has printed its message already; help and version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.OK;
    if (error.code === 'commander.help') return EXIT.USAGE;
    return EXIT.USAGE;
  }
  if (error instanceof CliError) {
    writeLine(io.stderr, `${c.red('weft:')} ${error.message}`);
    for (const line of error.lines) writeLine(io.stderr, line);
    if (debug) writeLine(io.stderr, c.dim(String(error.stack)));
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  writeLine(io.stderr, `${c.red('weft: internal error:')} ${message}`);
  if (debug) writeLine(io.stderr, c.dim(error instanceof Error ? String(error.stack) : ''));
  else writeLine(io.stderr, c.dim('(run again with --debug for the stack trace)'));
  return EXIT.FAILED;
}

export function processIo(): Io {
  // A reader that goes away (`weft run … --json | head -1`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}
