#!/usr/bin/env node
// The `homedb` command (bin of @homedb/replication): serve a home, manage users, inspect/verify/restore logs and
// ask a server for its status. Parsing and --help by commander; run `homedb <command> --help` for each.
import { Command } from 'commander'
import { addUser, listUsers, rotateToken, status } from './admin.js'
import { directory, move } from './homing-commands.js'
import { inspect, restore, verify } from './log-commands.js'
import { serve } from './serve.js'

const program = new Command()
program
  .name('homedb')
  .description('homedb home server and log tools (npx -p @homedb/replication homedb …)')
  .showHelpAfterError()

program
  .command('serve')
  .description('run a home server in the foreground')
  .requiredOption('--data <dir>', 'data directory (created if missing)')
  .option('--port <n>', 'TCP port (0 picks one)', '7100')
  .option('--host <addr>', 'interface to listen on', '127.0.0.1')
  .option('--admin-token <token>', 'admin token, 16+ characters (or HOMEDB_ADMIN_TOKEN)')
  .option('--token-key <key>', 'base64url key (32+ bytes) shared by the deployment\u2019s homes (or HOMEDB_TOKEN_KEY)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key)')
  .option('--tls-key <file>', 'the certificate\u2019s private key (PEM)')
  .option(
    '--trust-proxy <addrs>',
    'trust X-Forwarded-* from these proxy addresses (IPs/CIDRs, comma-separated; true: any)',
  )
  .option('--max-users <n>', 'user quota (default 100000)')
  .option('--max-open-logs <n>', 'user logs kept open while idle (default 256)')
  .option('--directory <url>', 'the deployment\u2019s directory: http(s)://… or etcd://host:port,host:port')
  .option('--public-url <url>', 'the URL the directory names this home by (default: the one it listens on)')
  .option('--log', 'log every request (pino JSON lines)')
  .action(serve)

program
  .command('directory')
  .description('run the embedded directory (user \u2192 home map) in the foreground')
  .requiredOption('--data <dir>', 'data directory (created if missing)')
  .option('--port <n>', 'TCP port (0 picks one)', '7000')
  .option('--host <addr>', 'interface to listen on', '127.0.0.1')
  .option('--admin-token <token>', 'admin token (or HOMEDB_ADMIN_TOKEN)')
  .option('--lookup-token <token>', 'require this token for lookups (default: lookups are open)')
  .option('--log', 'log every request (pino JSON lines)')
  .action(directory)

program
  .command('move <user>')
  .description('move a user to another home, live (writes pause briefly; nothing acknowledged is lost)')
  .requiredOption('--to <url>', 'the target home')
  .requiredOption('--directory <url>', 'the deployment\u2019s directory: http(s)://… or etcd://host:port,host:port')
  .option('--admin-token <token>', 'admin token (or HOMEDB_ADMIN_TOKEN)')
  .option('--lease-ms <n>', 'the source\u2019s freeze lease (default 10000)')
  .option('--json', 'print the result as JSON')
  .action((user: string, options) => move(user, options))

const users = program.command('users').description('add, list users and rotate their tokens')
users
  .command('add <name>')
  .description('add a user and print its token (once)')
  .option('--home <url>', 'a running server')
  .option('--data <dir>', 'a stopped server\u2019s data directory')
  .option('--admin-token <token>', 'admin token for --home (or HOMEDB_ADMIN_TOKEN)')
  .option('--token <token>', 'use this token (16+ characters) instead of generating one')
  .option('--token-key <key>', 'the deployment\u2019s token key, with --data (or HOMEDB_TOKEN_KEY)')
  .option('--ca <file>', 'CA certificate (PEM) of an https --home')
  .action((name: string, options) => addUser(name, options))
users
  .command('rotate <name>')
  .description('give a user a new token and print it (once); the old one is refused from then on')
  .option('--home <url>', 'a running server')
  .option('--data <dir>', 'a stopped server\u2019s data directory')
  .option('--admin-token <token>', 'admin token for --home (or HOMEDB_ADMIN_TOKEN)')
  .option('--token <token>', 'use this token (16+ characters) instead of generating one')
  .option('--token-key <key>', 'the deployment\u2019s token key, with --data (or HOMEDB_TOKEN_KEY)')
  .option('--ca <file>', 'CA certificate (PEM) of an https --home')
  .action((name: string, options) => rotateToken(name, options))
users
  .command('list')
  .description('list users with their positions')
  .option('--home <url>', 'a running server')
  .option('--data <dir>', 'a stopped server\u2019s data directory')
  .option('--admin-token <token>', 'admin token for --home (or HOMEDB_ADMIN_TOKEN)')
  .option('--ca <file>', 'CA certificate (PEM) of an https --home')
  .option('--json', 'machine-readable output')
  .action((options) => listUsers(options))

program
  .command('inspect <dir>')
  .description('show a log: segments, snapshots, head, start, lock')
  .action((dir: string) => inspect(dir))

program
  .command('verify <dir>')
  .description('check every frame and snapshot of a log (exit code 1 on damage)')
  .option('--home', 'DIR is a home server\u2019s data directory: verify every user\u2019s log')
  .action((dir: string, options) => verify(dir, options))

program
  .command('status <url>')
  .description('a running home\u2019s or directory\u2019s users, homes, epochs, positions, replica lag, moves')
  .option('--admin-token <token>', 'admin token (or HOMEDB_ADMIN_TOKEN)')
  .option('--ca <file>', 'CA certificate (PEM) of an https home')
  .option('--json', 'machine-readable output')
  .action((url: string, options) => status(url, options))

program
  .command('restore <dir>')
  .description('restore a writer\u2019s log from its home (damaged files are moved aside, never deleted)')
  .requiredOption('--home <url>', 'the home server')
  .requiredOption('--user <name>', 'the user')
  .option('--token <token>', 'the user\u2019s token (or HOMEDB_TOKEN)')
  .option('--ca <file>', 'CA certificate (PEM) of an https home')
  .option('--force', 'also replace a healthy log (it is moved aside)')
  .action((dir: string, options) => restore(dir, options))

program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(`homedb: ${(error as Error)?.message ?? error}`)
  process.exitCode = 1
})
