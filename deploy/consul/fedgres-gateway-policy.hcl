# ACL policy for the gateways' token:
#   consul acl policy create -name fedgres-gateway -rules @deploy/consul/fedgres-gateway-policy.hcl
#   consul acl token create -description "fedgres gateways" -policy-name fedgres-gateway
# Blocking reads of health/service/fedgres-edge?passing and of the KV prefix fedgres/edges/.
service "fedgres-edge" {
  policy = "read"
}
# Health results are filtered by node read access: without it, no edge would be listed.
node_prefix "" {
  policy = "read"
}
key_prefix "fedgres/edges/" {
  policy = "read"
}
