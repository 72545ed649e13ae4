# ACL policy for the gateways' token:
#   consul acl policy create -name fedgres-gateway -rules @deploy/consul/fedgres-gateway-policy.hcl
#   consul acl token create -description "fedgres gateways" -policy-name fedgres-gateway
# Blocking reads of health/service/fedgres-edge?passing and of the KV prefix fedgres/edges/, and,
# while the KV read is parked, a probe of the prefix's index (fedgres/edges?keys&separator=/,
# which lists one collapsed key: every key it counts is under fedgres/edges/, so read on that
# prefix is enough with Consul's default acl.enable_key_list_policy = false).
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
