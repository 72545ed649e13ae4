/** Built-in type OIDs and the names SQL casts use for them (pg_type, PostgreSQL 18). */
const NAMES: Record<number, string> = {
  16: 'boolean', 17: 'bytea', 18: '"char"', 19: 'name', 20: 'bigint', 21: 'smallint', 23: 'integer', 25: 'text', 26: 'oid',
  114: 'json', 700: 'real', 701: 'double precision', 869: 'inet', 1043: 'varchar', 1082: 'date', 1083: 'time',
  1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval', 1266: 'timetz', 1700: 'numeric', 2950: 'uuid', 3802: 'jsonb',
  1000: 'boolean[]', 1005: 'smallint[]', 1007: 'integer[]', 1009: 'text[]', 1015: 'varchar[]', 1016: 'bigint[]',
  1021: 'real[]', 1022: 'double precision[]', 1115: 'timestamp[]', 1182: 'date[]', 1185: 'timestamptz[]', 1231: 'numeric[]',
  3807: 'jsonb[]', 199: 'json[]',
}

/** The SQL name of a built-in type, or undefined for one the gateway does not cast through text. */
export const typeNameOf = (oid: number): string | undefined => NAMES[oid]
