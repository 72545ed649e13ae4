/** SQL quoting of a literal ('it''s') and of an identifier ("a""b"), as PostgreSQL's quote_literal and quote_ident (always quoted). */
export const quoteLiteral = (v: string): string => `'${v.replace(/'/g, "''")}'`
export const quoteIdent = (v: string): string => '"' + v.replace(/"/g, '""') + '"'
