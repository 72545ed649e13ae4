/**
 * The simulated cluster the event source reports on: namespaces, workloads, processes and
 * policies shaped after KubeArmor's own documentation and real captured events
 * (../shared/data/*.jsonl).
 */

export interface Workload {
  readonly namespace: string
  readonly kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'
  readonly name: string
  readonly labels: string
  readonly container: string
  readonly image: string
  /** Processes this workload runs, with their parent. */
  readonly processes: readonly { readonly parent: string; readonly path: string; readonly args: string }[]
  readonly files: readonly string[]
  readonly peers: readonly string[]
}

export const WORKLOADS: readonly Workload[] = [
  {
    namespace: 'wordpress-mysql', kind: 'Deployment', name: 'wordpress', labels: 'app=wordpress', container: 'wordpress',
    image: 'docker.io/library/wordpress:4.8-apache@sha256:6216f64ab88fc51d311e38c7f69ca3f9aaba621492b4f1fa93ddf63093768845',
    processes: [
      { parent: '/usr/bin/containerd-shim-runc-v2', path: '/usr/sbin/apache2', args: '-DFOREGROUND' },
      { parent: '/bin/bash', path: '/usr/bin/apt', args: 'update' },
      { parent: '/usr/sbin/apache2', path: '/usr/local/bin/php', args: '/var/www/html/index.php' },
    ],
    files: ['/var/www/html/wp-config.php', '/etc/passwd', '/var/www/html/index.php', '/etc/apache2/apache2.conf'],
    peers: ['10.0.0.10:53', '10.96.12.7:3306'],
  },
  {
    namespace: 'wordpress-mysql', kind: 'StatefulSet', name: 'mysql', labels: 'app=mysql', container: 'mysql',
    image: 'docker.io/library/mysql:5.6@sha256:20575ecebe6216036d25dab5903808211f1e9ba63dc7825ac20cb975e34cfcae',
    processes: [{ parent: '/usr/bin/containerd-shim-runc-v2', path: '/usr/sbin/mysqld', args: '--datadir=/var/lib/mysql' }],
    files: ['/var/lib/mysql/ibdata1', '/etc/mysql/my.cnf', '/etc/shadow'],
    peers: ['10.0.0.10:53'],
  },
  {
    namespace: 'default', kind: 'Deployment', name: 'nginx', labels: 'app=nginx', container: 'nginx',
    image: 'docker.io/library/nginx:latest@sha256:553f64aecdc31b5bf944521731cd70e35da4faed96b2b7548a3d8e2598c52a42',
    processes: [
      { parent: '/usr/bin/containerd-shim', path: '/usr/sbin/nginx', args: '-g daemon off;' },
      { parent: '/usr/bin/bash', path: '/usr/bin/curl', args: 'google.com' },
      { parent: '/usr/bin/containerd-shim', path: '/usr/bin/bash', args: '' },
    ],
    files: ['/etc/nginx/nginx.conf', '/var/log/nginx/access.log', '/usr/share/nginx/html/index.html'],
    peers: ['10.43.0.10:53', '142.250.72.14:443'],
  },
  {
    namespace: 'payments', kind: 'Deployment', name: 'checkout', labels: 'app=checkout,tier=backend', container: 'checkout',
    image: 'registry.example.com/payments/checkout:2.14.1@sha256:4f2d1b6c9e0a7d3b5c8e1f2a4b6c8d0e2f4a6b8c0d2e4f6a8b0c2d4e6f8a0b2c',
    processes: [
      { parent: '/usr/bin/containerd-shim-runc-v2', path: '/usr/local/bin/node', args: '/app/server.js' },
      { parent: '/usr/local/bin/node', path: '/bin/sh', args: '-c ls /app' },
    ],
    files: ['/app/config/secrets.json', '/app/server.js', '/var/run/secrets/kubernetes.io/serviceaccount/token'],
    peers: ['10.96.0.20:5432', '10.43.0.10:53'],
  },
  {
    namespace: 'accuknox-agents', kind: 'Deployment', name: 'discovery-engine', labels: 'app=discovery-engine', container: 'discovery-engine',
    image: 'docker.io/accuknox/knoxautopolicy:v0.9@sha256:bb83b5c6d41e0d0aa3b5d6621188c284ea99741c3692e34b0f089b0e74745413',
    processes: [{ parent: '/usr/bin/containerd-shim-runc-v2', path: '/knoxAutoPolicy', args: '' }],
    files: ['/var/run/secrets/kubernetes.io/serviceaccount/token', '/conf/conf.yaml'],
    peers: ['10.0.0.10:53', '10.96.0.1:443'],
  },
  {
    namespace: 'kube-system', kind: 'DaemonSet', name: 'coredns', labels: 'k8s-app=kube-dns', container: 'coredns',
    image: 'registry.k8s.io/coredns/coredns:v1.11.1@sha256:1eeb4c7316bacb1d4c8ead65571cd92dd21e27359f0d4917f1a5822a73b75db1',
    processes: [{ parent: '/usr/bin/containerd-shim-runc-v2', path: '/coredns', args: '-conf /etc/coredns/Corefile' }],
    files: ['/etc/coredns/Corefile', '/etc/resolv.conf'],
    peers: ['8.8.8.8:53', '10.96.0.1:443'],
  },
  {
    namespace: 'multiubuntu', kind: 'Deployment', name: 'ubuntu-1-deployment', labels: 'group=group-1,container=ubuntu-1', container: 'ubuntu-1-container',
    image: 'docker.io/kubearmor/ubuntu-w-utils:latest@sha256:8c94d921d36698a63e02337302989e8311169b750cc0dd4713e688f3631ab4ba',
    processes: [
      { parent: '/bin/bash', path: '/usr/bin/python3.6', args: '-m pydoc' },
      { parent: '/bin/bash', path: '/bin/sleep', args: '10' },
      { parent: '/usr/bin/containerd-shim-runc-v2', path: '/bin/bash', args: '' },
    ],
    files: ['/etc/hostname', '/credentials/password', '/secret.txt'],
    peers: ['10.0.0.10:53'],
  },
  {
    namespace: 'monitoring', kind: 'Deployment', name: 'prometheus', labels: 'app.kubernetes.io/name=prometheus', container: 'prometheus',
    image: 'quay.io/prometheus/prometheus:v2.53.0@sha256:075b1ba2c4ebb04bc3a6ab86c06ec8d8099f8fda1c96ef6d104d9bb1def1d8bc',
    processes: [{ parent: '/usr/bin/containerd-shim-runc-v2', path: '/bin/prometheus', args: '--config.file=/etc/prometheus/prometheus.yml' }],
    files: ['/etc/prometheus/prometheus.yml', '/prometheus/wal/00000001'],
    peers: ['10.244.1.12:9100', '10.244.2.9:8080'],
  },
]

export interface Policy {
  readonly name: string
  readonly severity: number
  readonly tags: readonly string[]
  readonly message: string
  readonly action: 'Block' | 'Audit'
  readonly operation: 'Process' | 'File' | 'Network'
}

export const POLICIES: readonly Policy[] = [
  { name: 'harden-wordpress-pkg-mngr-exec', severity: 5, tags: ['NIST', 'NIST_800-53_CM-7(4)', 'SI-4', 'process', 'NIST_800-53_SI-4'], message: 'Alert! Execution of package management process inside container is denied', action: 'Block', operation: 'Process' },
  { name: 'ksp-ubuntu-1-allow-proc-args', severity: 5, tags: [], message: 'block all arguments except allowedArgs', action: 'Block', operation: 'Process' },
  { name: 'harden-mysql-file-integrity-monitoring', severity: 1, tags: ['NIST', 'NIST_800-53_AU-2', 'NIST_800-53_SI-4', 'MITRE', 'MITRE_T1036_masquerading', 'MITRE_T1565_data_manipulation'], message: 'Detected and prevented compromise to File integrity', action: 'Block', operation: 'File' },
  { name: 'audit-secret-access', severity: 7, tags: ['PCI_DSS', 'CIS', 'CIS_5.1'], message: 'Sensitive credentials file read', action: 'Audit', operation: 'File' },
  { name: 'restrict-egress-dns', severity: 3, tags: ['network'], message: 'Unexpected outbound connection', action: 'Audit', operation: 'Network' },
  { name: 'DefaultPosture', severity: 0, tags: [], message: '', action: 'Audit', operation: 'Process' },
]

export const HOST_PROCESSES = [
  { parent: '/usr/lib/systemd/systemd', path: '/usr/sbin/sshd', args: '-D' },
  { parent: '/bin/bash', path: '/bin/sleep', args: '10' },
  { parent: '/usr/sbin/cron', path: '/bin/sh', args: '-c /usr/local/bin/backup.sh' },
] as const
