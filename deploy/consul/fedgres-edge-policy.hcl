# ACL policy for the edge agents' token (one token for all edges of a cluster):
#   consul acl policy create -name fedgres-edge -rules @deploy/consul/fedgres-edge-policy.hcl
#   consul acl token create -description "fedgres edges" -policy-name fedgres-edge
# Registers service fedgres-edge (IDs edge-<edge_id>), updates its TTL check, and writes the
# synopsis and membership record at fedgres/edges/<edge_id>/synopsis and /member. The service
# name is consul.service_name. `fedgres decommission` needs the same KV write.
service "fedgres-edge" {
  policy = "write"
}
key_prefix "fedgres/edges/" {
  policy = "write"
}
# Node read, as Consul's own service-identity policies grant alongside service write.
node_prefix "" {
  policy = "read"
}
