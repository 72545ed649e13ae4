/**
 * What the demo prints once it is ready: how to reach the gateway from psql, JDBC, Npgsql and
 * Power BI, Tableau and Grafana, and three queries to start with. Plain text on stdout; the
 * logs go to stderr.
 */
import { relative } from 'node:path'
import type { DemoNetwork } from './demo-network.js'

export function connectionHelp(net: DemoNetwork, dataDir: string): string {
  const { host, port, database: db, user } = net
  const pw = net.secrets.analystPassword
  const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p) || '.')
  const clusters = [...new Set(net.edges.map((e) => e.cluster))].join(', ')
  const lastHost = net.edges[net.edges.length - 1]!.hosts[0]!
  return `
Fedgres demo is ready: ${net.edges.length} edge agents (clusters ${clusters}) behind one gateway on ${host}:${port}.
  user ${user}   password ${pw}   database ${db}   TLS: self-signed, ${shown(net.tls.cert)}

psql      PGPASSWORD=${pw} psql "host=${host} port=${port} dbname=${db} user=${user} sslmode=prefer"
JDBC      jdbc:postgresql://${host}:${port}/${db}?user=${user}&password=${pw}&sslmode=require
Npgsql    Host=${host};Port=${port};Database=${db};Username=${user};Password=${pw};SSL Mode=Require;Trust Server Certificate=true
Power BI  Get Data > PostgreSQL database: Server ${host}:${port}, Database ${db}; Database credentials ${user} / password above
          (Power BI checks the certificate: import ${shown(net.tls.cert)} as trusted, or untick "Encrypt connections")
Tableau   PostgreSQL connector: Server ${host}, Port ${port}, Database ${db}, Username ${user}, Password above, Require SSL ticked
Grafana   PostgreSQL data source: Host URL ${host}:${port}, Database name ${db}, Username ${user}, Password above, TLS/SSL Mode require

Try:
  SELECT namespace_name, pod_name, count(*) AS alerts FROM alerts GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5;
  SELECT * FROM fedgres.edges;
  EXPLAIN SELECT count(*) FROM logs WHERE host_name = '${lastHost}';   -- asks one edge, prunes the others

Data stays in ${shown(dataDir)} (the next start reuses it). Ctrl-C stops the demo.
`
}
