/**
 * Type bytes and special codes of the PostgreSQL frontend/backend protocol 3.0.
 * Some letters mean different things per direction (`D` is Describe from the client and
 * DataRow from the server), hence two tables.
 * @see https://www.postgresql.org/docs/current/protocol-message-formats.html
 */

/** Messages a client (frontend) sends. */
export const FrontendCode = {
  Bind: 0x42, // B
  Close: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyFail: 0x66, // f
  Describe: 0x44, // D
  Execute: 0x45, // E
  Flush: 0x48, // H
  FunctionCall: 0x46, // F
  Parse: 0x50, // P
  /** PasswordMessage, SASLInitialResponse, SASLResponse and GSSResponse all share `p`. */
  AuthResponse: 0x70, // p
  Query: 0x51, // Q
  Sync: 0x53, // S
  Terminate: 0x58, // X
} as const

/** Messages a server (backend) sends. */
export const BackendCode = {
  Authentication: 0x52, // R
  BackendKeyData: 0x4b, // K
  BindComplete: 0x32, // 2
  CloseComplete: 0x33, // 3
  CommandComplete: 0x43, // C
  CopyData: 0x64, // d
  CopyDone: 0x63, // c
  CopyInResponse: 0x47, // G
  CopyOutResponse: 0x48, // H
  CopyBothResponse: 0x57, // W
  DataRow: 0x44, // D
  EmptyQueryResponse: 0x49, // I
  ErrorResponse: 0x45, // E
  FunctionCallResponse: 0x56, // V
  NegotiateProtocolVersion: 0x76, // v
  NoData: 0x6e, // n
  NoticeResponse: 0x4e, // N
  NotificationResponse: 0x41, // A
  ParameterDescription: 0x74, // t
  ParameterStatus: 0x53, // S
  ParseComplete: 0x31, // 1
  PortalSuspended: 0x73, // s
  ReadyForQuery: 0x5a, // Z
  RowDescription: 0x54, // T
} as const

/** Sub-codes of the Authentication (`R`) message. */
export const AuthCode = {
  Ok: 0,
  KerberosV5: 2,
  CleartextPassword: 3,
  MD5Password: 5,
  GSS: 7,
  GSSContinue: 8,
  SSPI: 9,
  SASL: 10,
  SASLContinue: 11,
  SASLFinal: 12,
} as const
export type AuthCode = (typeof AuthCode)[keyof typeof AuthCode]

/**
 * Startup-phase frames have no type byte; the int32 after the length tells them apart.
 * The special codes are versions "1234.5678"-"1234.5680" that no real protocol will use.
 */
export const PROTOCOL_VERSION_3_0 = 196608 // 3 << 16
export const CANCEL_REQUEST_CODE = 80877102 // 1234 << 16 | 5678
export const SSL_REQUEST_CODE = 80877103 // 1234 << 16 | 5679
export const GSSENC_REQUEST_CODE = 80877104 // 1234 << 16 | 5680

/** Type byte + int32 length, for every message after the startup phase. */
export const HEADER_LENGTH = 5
/** Int32 length only, for startup-phase frames. */
export const STARTUP_HEADER_LENGTH = 4

/** Text and binary, the only two format codes PostgreSQL defines. */
export type FormatCode = 0 | 1
/** ReadyForQuery transaction status: idle, in a transaction block, in a failed one. */
export type TransactionStatus = 'I' | 'T' | 'E'
/** The target of Describe and Close: a prepared statement or a portal. */
export type TargetKind = 'S' | 'P'
