import { ConsulClient } from '../../common/consul/consul-client.js'
import { DecommissionRefused, decommissionEdge } from '../../edge-agent/registry/decommission.js'
import type { Command } from '../command.js'

export const decommissionCommand: Command = {
  name: 'decommission',
  summary: 'take an edge out of the network for good (its rows are gone): gateways stop waiting for it',
  usage: 'fedgres decommission --edge-id <id> [--consul http://127.0.0.1:8500] [--force]',
  options: {
    'edge-id': { type: 'string' },
    consul: { type: 'string' },
    token: { type: 'string' },
    ca: { type: 'string' },
    'service-name': { type: 'string' },
    force: { type: 'boolean' },
  },
  optionHelp: {
    'edge-id': 'the edge to remove (its edge_id; fedgres.edges lists them)',
    consul: 'Consul HTTP address (default CONSUL_HTTP_ADDR, else http://127.0.0.1:8500)',
    token: 'ACL token with write access to fedgres/edges/ (default CONSUL_HTTP_TOKEN)',
    ca: 'PEM CA bundle for an https address (default CONSUL_CACERT)',
    'service-name': "the edges' Consul service (consul.service_name, default fedgres-edge)",
    force: 'remove it even while Consul lists its service (an edge known to be gone)',
  },
  async run(v) {
    const edgeId = v['edge-id'] as string | undefined
    if (!edgeId) {
      process.stderr.write('fedgres decommission: --edge-id is required\n')
      return 2
    }
    const client = new ConsulClient({
      address: (v.consul as string | undefined) ?? process.env.CONSUL_HTTP_ADDR ?? 'http://127.0.0.1:8500',
      token: (v.token as string | undefined) ?? process.env.CONSUL_HTTP_TOKEN,
      ca: (v.ca as string | undefined) ?? process.env.CONSUL_CACERT,
    })
    try {
      const { deleted } = await decommissionEdge(client, { edgeId, serviceName: (v['service-name'] as string | undefined) ?? 'fedgres-edge', force: v.force === true })
      process.stdout.write(`edge ${edgeId} decommissioned; deleted from Consul KV: ${deleted.join(', ')}\n`)
      return 0
    } catch (e) {
      process.stderr.write(`fedgres decommission: ${(e as Error).message}\n`)
      return e instanceof DecommissionRefused ? 1 : 3
    } finally {
      await client.close()
    }
  },
}
