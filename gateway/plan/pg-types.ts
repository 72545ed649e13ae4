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

/** Built-in element types and their array types (pg_type.typarray), for a parameter holding a subquery's rows. */
const ARRAYS: Record<number, number> = {
  16: 1000, 17: 1001, 18: 1002, 19: 1003, 20: 1016, 21: 1005, 23: 1007, 25: 1009, 26: 1028, 114: 199, 650: 651, 700: 1021,
  701: 1022, 790: 791, 829: 1040, 869: 1041, 1042: 1014, 1043: 1015, 1082: 1182, 1083: 1183, 1114: 1115, 1184: 1185,
  1186: 1187, 1266: 1270, 1560: 1561, 1562: 1563, 1700: 1231, 2950: 2951, 3802: 3807,
}

/** The array type of a built-in type, or undefined (an array's, or a type this table lacks). */
export const arrayTypeOf = (oid: number): number | undefined => ARRAYS[oid]

/**
 * name, whose collation is "C": a subquery's value of it bound as a parameter would compare
 * under the default collation, so such a value is not run apart (exec/init-plans.ts, derived-tables.ts).
 */
export const NAME_OID = 19

/** The OID of a built-in type by the name typeNameOf gives it, or undefined. */
const OIDS = new Map(Object.entries(NAMES).map(([oid, name]) => [name, Number(oid)]))
export const typeOidOf = (name: string): number | undefined => OIDS.get(name)
