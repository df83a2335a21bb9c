import type { FieldPacket } from 'mysql2/promise';

/** A column as the PlanetScale HTTP API describes it; `@planetscale/database`'s `cast` decides by `type` and `charset`. */
export interface PsdbField {
  name: string;
  type: string;
  table: string;
  orgTable: string;
  database: string;
  orgName: string;
  columnLength: number;
  charset: number;
  decimals: number;
  flags: number;
}

// MySQL protocol column types (include/mysql_com.h enum_field_types).
const COLUMN_TYPE = {
  DECIMAL: 0,
  TINY: 1,
  SHORT: 2,
  LONG: 3,
  FLOAT: 4,
  DOUBLE: 5,
  NULL: 6,
  TIMESTAMP: 7,
  LONGLONG: 8,
  INT24: 9,
  DATE: 10,
  TIME: 11,
  DATETIME: 12,
  YEAR: 13,
  NEWDATE: 14,
  VARCHAR: 15,
  BIT: 16,
  TIMESTAMP2: 17,
  DATETIME2: 18,
  TIME2: 19,
  JSON: 245,
  NEWDECIMAL: 246,
  ENUM: 247,
  SET: 248,
  TINY_BLOB: 249,
  MEDIUM_BLOB: 250,
  LONG_BLOB: 251,
  BLOB: 252,
  VAR_STRING: 253,
  STRING: 254,
  GEOMETRY: 255,
} as const;

const UNSIGNED_FLAG = 32;
const ENUM_FLAG = 256;
const SET_FLAG = 2048;
/** The `binary` character set: the driver returns such values as Uint8Array. */
export const BINARY_CHARSET = 63;

function integer(signedName: string, unsigned: boolean): string {
  return unsigned ? `U${signedName}` : signedName;
}

function planetScaleType(columnType: number, flags: number, charset: number, isJson: boolean): string {
  const unsigned = (flags & UNSIGNED_FLAG) !== 0;
  const binary = charset === BINARY_CHARSET;
  switch (columnType) {
    case COLUMN_TYPE.DECIMAL:
    case COLUMN_TYPE.NEWDECIMAL:
      return 'DECIMAL';
    case COLUMN_TYPE.TINY:
      return integer('INT8', unsigned);
    case COLUMN_TYPE.SHORT:
      return integer('INT16', unsigned);
    case COLUMN_TYPE.INT24:
      return integer('INT24', unsigned);
    case COLUMN_TYPE.LONG:
      return integer('INT32', unsigned);
    case COLUMN_TYPE.LONGLONG:
      return integer('INT64', unsigned);
    case COLUMN_TYPE.FLOAT:
      return 'FLOAT32';
    case COLUMN_TYPE.DOUBLE:
      return 'FLOAT64';
    case COLUMN_TYPE.NULL:
      return 'NULL';
    case COLUMN_TYPE.TIMESTAMP:
    case COLUMN_TYPE.TIMESTAMP2:
      return 'TIMESTAMP';
    case COLUMN_TYPE.DATE:
    case COLUMN_TYPE.NEWDATE:
      return 'DATE';
    case COLUMN_TYPE.TIME:
    case COLUMN_TYPE.TIME2:
      return 'TIME';
    case COLUMN_TYPE.DATETIME:
    case COLUMN_TYPE.DATETIME2:
      return 'DATETIME';
    case COLUMN_TYPE.YEAR:
      return 'YEAR';
    case COLUMN_TYPE.BIT:
      return 'BIT';
    case COLUMN_TYPE.JSON:
      return 'JSON';
    case COLUMN_TYPE.ENUM:
      return 'ENUM';
    case COLUMN_TYPE.SET:
      return 'SET';
    case COLUMN_TYPE.GEOMETRY:
      return 'GEOMETRY';
    case COLUMN_TYPE.TINY_BLOB:
    case COLUMN_TYPE.MEDIUM_BLOB:
    case COLUMN_TYPE.LONG_BLOB:
    case COLUMN_TYPE.BLOB:
      if (isJson) return 'JSON';
      return binary ? 'BLOB' : 'TEXT';
    case COLUMN_TYPE.VARCHAR:
    case COLUMN_TYPE.VAR_STRING:
      if (isJson) return 'JSON';
      return binary ? 'VARBINARY' : 'VARCHAR';
    case COLUMN_TYPE.STRING:
      if ((flags & ENUM_FLAG) !== 0) return 'ENUM';
      if ((flags & SET_FLAG) !== 0) return 'SET';
      return binary ? 'BINARY' : 'CHAR';
    default:
      // Unknown types fall back to bytes or text, which is what the driver does with any unlisted name anyway.
      return binary ? 'VARBINARY' : 'VARCHAR';
  }
}

/**
 * Describes a mysql2 column the way PlanetScale would. MariaDB sends its JSON columns (LONGTEXT with a
 * json_valid CHECK) and JSON-valued expressions as plain text types; the only marker is the `json` format in
 * MariaDB's extended column metadata, which mysql2 negotiates with MariaDB 10.5+ and exposes as `extendedFormat`.
 */
export function toPsdbField(field: FieldPacket): PsdbField {
  const columnType = field.columnType ?? field.type ?? COLUMN_TYPE.NULL;
  const flags = typeof field.flags === 'number' ? field.flags : 0;
  const charset = field.characterSet ?? BINARY_CHARSET;
  return {
    name: field.name,
    type: planetScaleType(columnType, flags, charset, field.extendedFormat === 'json'),
    table: field.table,
    orgTable: field.orgTable,
    database: field.schema ?? field.db ?? '',
    orgName: field.orgName,
    columnLength: field.columnLength ?? field.length ?? 0,
    charset,
    decimals: field.decimals,
    flags,
  };
}
