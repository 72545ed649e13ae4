/**
 * The SQLSTATE codes Fedgres sends, named as in PostgreSQL's errcodes.txt.
 * This is the only table of codes: everything that reaches a client takes its code from here.
 * @see https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export const SqlState = {
  SuccessfulCompletion: '00000',
  Warning: '01000',
  ConnectionException: '08000',
  ConnectionFailure: '08006',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  InvalidParameterValue: '22023',
  DataException: '22000',
  InvalidTextRepresentation: '22P02',
  InvalidTransactionState: '25000',
  ActiveSqlTransaction: '25001',
  ReadOnlySqlTransaction: '25006',
  InFailedSqlTransaction: '25P02',
  IdleInTransactionSessionTimeout: '25P03',
  InvalidAuthorizationSpecification: '28000',
  InvalidPassword: '28P01',
  InvalidSqlStatementName: '26000',
  InvalidCatalogName: '3D000',
  InvalidSavepointSpecification: '3B001',
  NoActiveSqlTransaction: '25P01',
  DivisionByZero: '22012',
  InvalidRowCountInLimitClause: '2201W',
  InvalidRowCountInResultOffsetClause: '2201X',
  InvalidCursorState: '24000',
  InvalidCursorName: '34000',
  UndefinedParameter: '42P02',
  DuplicateCursor: '42P03',
  DuplicatePreparedStatement: '42P05',
  SyntaxError: '42601',
  InsufficientPrivilege: '42501',
  UndefinedTable: '42P01',
  UndefinedColumn: '42703',
  UndefinedObject: '42704',
  ProgramLimitExceeded: '54000',
  TooManyConnections: '53300',
  OutOfMemory: '53200',
  ObjectNotInPrerequisiteState: '55000',
  QueryCanceled: '57014',
  AdminShutdown: '57P01',
  CannotConnectNow: '57P03',
  IdleSessionTimeout: '57P05',
  ConfigFileError: 'F0000',
  InternalError: 'XX000',
} as const

export type SqlStateName = keyof typeof SqlState
export type SqlStateCode = (typeof SqlState)[SqlStateName]
