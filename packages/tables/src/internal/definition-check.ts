// The check `schema()` runs on each table definition: every option is known and well-formed (versioning, a value
// schema, key checks), and the definition the db keeps is a frozen copy holding exactly those options.
import { TablesSchemaError } from '../errors.js'
import type { TableDef } from '../table-def.js'
import { isStandardSchema } from './standard-schema.js'

/** The options each kind accepts besides `kind`. */
const OPTIONS: Readonly<Record<TableDef['kind'], readonly string[]>> = {
  single: ['version', 'upgrade', 'schema'],
  lookupTable: ['version', 'upgrade', 'schema', 'key'],
  list: ['version', 'upgrade', 'schema'],
  lookupList: ['version', 'upgrade', 'schema', 'key'],
  lookupSet: ['key', 'member'],
  lookupMap: ['version', 'upgrade', 'schema', 'key', 'key2'],
}

/**
 * Checks the definition of table `name` and returns the frozen copy the db keeps. Throws `TABLES_SCHEMA` naming
 * the table and the option for an unknown option, a bad version, a version without `upgrade`, a `schema` that is
 * not a Standard Schema (v1) or a key check that is not `'string'`, `'number'` or a Standard Schema.
 */
export function checkDefinition(name: string, def: TableDef): TableDef {
  const allowed = OPTIONS[def.kind]
  const copy: Record<string, unknown> = { kind: def.kind }
  for (const option of Object.keys(def)) {
    if (option === 'kind') continue
    const value = (def as unknown as Record<string, unknown>)[option]
    if (value === undefined) continue
    if (!allowed.includes(option)) {
      throw refused(
        name,
        option,
        def.kind === 'lookupSet' && (option === 'version' || option === 'upgrade' || option === 'schema')
          ? 'a lookupSet holds keys, which have no versions or value schema (check members with `member`)'
          : `unknown option "${option}" for a ${def.kind} (it takes ${allowed.join(', ')})`,
      )
    }
    copy[option] = value
  }
  checkVersioning(name, def)
  if (def.schema !== undefined && !isStandardSchema(def.schema)) {
    throw refused(
      name,
      'schema',
      'schema must be a Standard Schema (v1): zod, valibot, arktype … (an object with "~standard")',
    )
  }
  for (const option of ['key', 'key2', 'member'] as const) {
    const check = def[option]
    if (check !== undefined && check !== 'string' && check !== 'number' && !isStandardSchema(check)) {
      throw refused(name, option, `${option} must be 'string', 'number' or a Standard Schema`)
    }
  }
  return Object.freeze(copy) as unknown as TableDef
}

function checkVersioning(name: string, def: TableDef): void {
  const { version, upgrade } = def
  if (version !== undefined && (!Number.isSafeInteger(version) || version < 1)) {
    throw refused(name, 'version', 'version must be an integer ≥ 1', { version })
  }
  if (version !== undefined && version > 1 && typeof upgrade !== 'function') {
    throw refused(name, 'upgrade', `version ${version} needs an upgrade(old, fromVersion) function`, { version })
  }
  if (upgrade !== undefined && typeof upgrade !== 'function') {
    throw refused(name, 'upgrade', 'upgrade must be a function (old, fromVersion) => value')
  }
}

function refused(name: string, option: string, why: string, context: Record<string, unknown> = {}): TablesSchemaError {
  return new TablesSchemaError('TABLES_SCHEMA', `table "${name}": ${why}`, { table: name, option, ...context })
}
