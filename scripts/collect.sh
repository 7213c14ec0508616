#!/usr/bin/env bash
# collect.sh: gather an emrguard snapshot of one Amazon EMR on EKS deployment.
#
# Usage: scripts/collect.sh CLUSTER [REGION]
#
# Writes the plain output of read-only `aws` and `kubectl` commands into
# ./emrguard-snapshot-<cluster>-<date>/ (or $OUT), one file per command. Nothing is sent anywhere;
# run `emrguard check <folder>` on the result. Secret *values* are never collected.
#
# Environment (all optional):
#   OUT                    output folder (default ./emrguard-snapshot-<cluster>-<UTC date>)
#   KUBE_CONTEXT           kubectl context to use (default: the current context)
#   JOB_RUN_DAYS           how many days of job runs to list per virtual cluster (default 30)
#   CLOUDTRAIL_S3_PREFIX   s3://bucket/AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/ to copy
#                          CloudTrail log files from (default: not collected)
#   SKIP_SECRETS=1         do not list secrets at all (default: list them, keep metadata only)
#   AWS_PROFILE, AWS_*     the usual AWS CLI settings (AWS_ENDPOINT_URL too)
#
# Exit status: 0 when every command succeeded; 1 when some failed (listed at the end and in
# collect.log, which emrguard check reports as coverage warnings); 2 when it stopped at once
# (usage, tool versions, describe-cluster failed, kubectl points at another cluster).
set -euo pipefail

usage() {
  sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
case "$1" in -h | --help) usage ;; esac

CLUSTER=$1
REGION=${2:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}
if [[ -z $REGION ]]; then
  REGION=$(aws configure get region 2>/dev/null || true)
fi
[[ -n $REGION ]] || { echo "collect.sh: no region given and none configured" >&2; exit 2; }

for tool in aws kubectl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "collect.sh: '$tool' not found in PATH" >&2; exit 2; }
done

# ---------------------------------------------------------------- tool versions, up front
# AWS CLI: access entries and Pod Identity need 2.15.0 (v2) or 1.32.0 (v1); Debian 12's 2.9.19
# has neither. kubectl: 1.23 or later (-o json of every kind read here).
version_ge() { # version_ge A B: A >= B (dotted numbers)
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -t. -k1,1n -k2,2n -k3,3n | head -n1)" = "$2" ]
}
AWS_VERSION=$(aws --version 2>&1 | sed -n 's#^aws-cli/\([0-9][0-9.]*\).*#\1#p' | head -n1)
case "$AWS_VERSION" in
  2.*) need_aws=2.15.0 ;;
  1.*) need_aws=1.32.0 ;;
  *) need_aws=unknown ;;
esac
if [[ $need_aws == unknown ]] || ! version_ge "$AWS_VERSION" "$need_aws"; then
  echo "collect.sh: AWS CLI ${AWS_VERSION:-of unknown version} is too old: eks list-access-entries and list-pod-identity-associations need AWS CLI v2 2.15.0 or later (or v1 1.32.0); see https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" >&2
  exit 2
fi
KUBECTL_VERSION=$(kubectl version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"v\([0-9][0-9.]*\).*/\1/p' | head -n1)
if [[ -z $KUBECTL_VERSION ]] || ! version_ge "$KUBECTL_VERSION" 1.23.0; then
  echo "collect.sh: kubectl ${KUBECTL_VERSION:-of unknown version} is too old or did not answer 'kubectl version --client -o json'; 1.23 or later is needed" >&2
  exit 2
fi

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-./emrguard-snapshot-${CLUSTER}-${STAMP}}
JOB_RUN_DAYS=${JOB_RUN_DAYS:-30}
mkdir -p "$OUT"
LOG="$OUT/collect.log"
ERR="$OUT/.stderr.tmp"
# The header makes emrguard recognise the log (its failures become coverage warnings).
{
  echo "# emrguard collect.sh log v1"
  echo "# cluster=$CLUSTER region=$REGION aws=$AWS_VERSION kubectl=$KUBECTL_VERSION started=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$LOG"

export AWS_PAGER=""
KUBECTL=(kubectl)
if [[ -n ${KUBE_CONTEXT:-} ]]; then
  KUBECTL+=(--context "$KUBE_CONTEXT")
fi

files=0

log() { printf '%s %s\n' "$(date -u +%H:%M:%SZ)" "$*" >>"$LOG"; }
# fail CMD: record a failed command with the first line of its error output.
fail() {
  local why=""
  [[ -s $ERR ]] && why=$(grep -v '^[[:space:]]*$' "$ERR" | head -n1)
  # (the log, not a variable: awsq also runs inside $(...) subshells)
  log "FAIL $1${why:+: $why}"
  printf 'collect.sh: failed: %s%s\n' "$1" "${why:+ ($why)}" >&2
}
warn() {
  log "note $*"
  printf 'collect.sh: warning: %s\n' "$*" >&2
}
# stop MESSAGE: give up at once (exit 2), with the reason in the log.
stop() {
  log "STOP $*"
  echo "collect.sh: stopped: $*" >&2
  exit 2
}

# awsq ARGS...: an AWS CLI call whose output only drives the collection (ids, names).
awsq() {
  if aws --region "$REGION" "$@" 2>"$ERR"; then
    return 0
  fi
  fail "aws $*"
  return 1
}

# save FILE ARGS...: run `aws ARGS --output json` into FILE; on failure keep going.
save() {
  local file=$1
  shift
  local tmp="$OUT/.$file.tmp"
  if aws --region "$REGION" --output json "$@" >"$tmp" 2>"$ERR"; then
    mv "$tmp" "$OUT/$file"
    files=$((files + 1))
    log "ok   aws $*"
  else
    rm -f "$tmp"
    fail "aws $*"
  fi
}

# ksave FILE ARGS...: run `kubectl ARGS` into FILE; on failure keep going.
ksave() {
  local file=$1
  shift
  local tmp="$OUT/.$file.tmp"
  if "${KUBECTL[@]}" "$@" >"$tmp" 2>"$ERR"; then
    mv "$tmp" "$OUT/$file"
    files=$((files + 1))
    log "ok   kubectl $*"
  else
    rm -f "$tmp"
    fail "kubectl $*"
  fi
}

# save_lt ID: every version of a launch template, once per run (a node group may pin a version
# that is not the template's default).
save_lt() {
  local lt=$1
  if [[ -n $lt && $lt != None && $lt_seen != *" $lt "* ]]; then
    lt_seen="$lt_seen$lt "
    save "aws-ec2-describe-launch-template-versions-$(safe "$lt").json" \
      ec2 describe-launch-template-versions --launch-template-id "$lt"
  fi
}

# words: split the tab/newline separated output of `--output text` into lines, dropping "None".
words() { tr '\t' '\n' | sed '/^$/d; /^None$/d'; }

# safe NAME: a string usable in a file name.
safe() { printf '%s' "$1" | sed 's#^arn:[^:]*:[^:]*:[^:]*:[0-9]*:##; s#[^A-Za-z0-9._-]#_#g'; }

days_ago() {
  date -u -d "-$1 days" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -v-"$1"d +%Y-%m-%dT%H:%M:%SZ
}

echo "collect.sh: cluster $CLUSTER in $REGION -> $OUT"
log "cluster=$CLUSTER region=$REGION out=$OUT"
if ident=$(aws --region "$REGION" sts get-caller-identity --query Arn --output text 2>/dev/null); then
  log "caller $ident"
fi

# ---------------------------------------------------------------- EKS cluster
# Without the cluster nothing else is about the right estate: stop at once.
if aws --region "$REGION" --output json eks describe-cluster --name "$CLUSTER" >"$OUT/.cluster.tmp" 2>"$ERR"; then
  mv "$OUT/.cluster.tmp" "$OUT/aws-eks-describe-cluster.json"
  files=$((files + 1))
  log "ok   aws eks describe-cluster --name $CLUSTER"
else
  rm -f "$OUT/.cluster.tmp"
  fail "aws eks describe-cluster --name $CLUSTER"
  stop "aws eks describe-cluster --name $CLUSTER failed in $REGION: is the cluster name (and region, account) right?"
fi
VPC=$(aws --region "$REGION" eks describe-cluster --name "$CLUSTER" --query cluster.resourcesVpcConfig.vpcId --output text 2>/dev/null || true)
ENDPOINT=$(aws --region "$REGION" eks describe-cluster --name "$CLUSTER" --query cluster.endpoint --output text 2>/dev/null || true)
[[ -n $VPC && $VPC != None ]] || warn "could not read the cluster VPC; EC2 files will be region-wide"

# ---------------------------------------------------------------- kubectl points at this cluster?
# The context's API server must be the cluster's endpoint (or, without an endpoint to compare,
# the context's cluster must be named after it): else the Kubernetes half would describe
# another cluster. Stop at once.
current=$("${KUBECTL[@]}" config current-context 2>/dev/null || true)
kserver=$("${KUBECTL[@]}" config view --minify -o 'jsonpath={.clusters[0].cluster.server}' 2>/dev/null || true)
kcluster=$("${KUBECTL[@]}" config view --minify -o 'jsonpath={.contexts[0].context.cluster}' 2>/dev/null || true)
log "kubectl context=${current:-unknown} cluster=${kcluster:-unknown} server=${kserver:-unknown}"
norm() { printf '%s' "$1" | tr 'A-Z' 'a-z' | sed 's#/*$##'; }
if [[ -n $ENDPOINT && $ENDPOINT != None && -n $kserver ]]; then
  [[ $(norm "$kserver") == $(norm "$ENDPOINT") ]] ||
    stop "kubectl context '${current:-unknown}' talks to $kserver, not to $CLUSTER ($ENDPOINT): use KUBE_CONTEXT or 'aws eks update-kubeconfig --name $CLUSTER'"
elif [[ $kcluster != "$CLUSTER" && $kcluster != *":cluster/$CLUSTER" ]]; then
  stop "kubectl context '${current:-unknown}' is for cluster '${kcluster:-unknown}', not '$CLUSTER': use KUBE_CONTEXT or 'aws eks update-kubeconfig --name $CLUSTER'"
fi

# ---------------------------------------------------------------- node groups + launch templates
lt_seen=" "
save aws-eks-list-nodegroups.json eks list-nodegroups --cluster-name "$CLUSTER"
ngs=$(awsq eks list-nodegroups --cluster-name "$CLUSTER" --query 'nodegroups[]' --output text | words) || true
for ng in $ngs; do
  save "aws-eks-describe-nodegroup-$(safe "$ng").json" eks describe-nodegroup --cluster-name "$CLUSTER" --nodegroup-name "$ng"
  lt=$(awsq eks describe-nodegroup --cluster-name "$CLUSTER" --nodegroup-name "$ng" \
    --query 'nodegroup.launchTemplate.id' --output text || true)
  save_lt "$lt"
done

# ---------------------------------------------------------------- self-managed nodes' launch templates
# Instances of the cluster (tag kubernetes.io/cluster/<name>) launched from a template that no
# managed node group names: self-managed node groups (and Karpenter's own templates).
self_lts=$(awsq ec2 describe-instances --filters "Name=tag-key,Values=kubernetes.io/cluster/$CLUSTER" \
  --query 'Reservations[].Instances[].Tags[?Key==`aws:ec2launchtemplate:id`].Value[]' --output text | words) || true
for lt in $self_lts; do
  save_lt "$lt"
done

# ---------------------------------------------------------------- Fargate profiles
save aws-eks-list-fargate-profiles.json eks list-fargate-profiles --cluster-name "$CLUSTER"
fps=$(awsq eks list-fargate-profiles --cluster-name "$CLUSTER" --query 'fargateProfileNames[]' --output text | words) || true
for fp in $fps; do
  save "aws-eks-describe-fargate-profile-$(safe "$fp").json" eks describe-fargate-profile \
    --cluster-name "$CLUSTER" --fargate-profile-name "$fp"
done

# ---------------------------------------------------------------- access entries
principals=$(awsq eks list-access-entries --cluster-name "$CLUSTER" --query 'accessEntries[]' --output text | words) || true
for principal in $principals; do
  name=$(safe "$principal")
  save "aws-eks-describe-access-entry-$name.json" \
    eks describe-access-entry --cluster-name "$CLUSTER" --principal-arn "$principal"
  save "aws-eks-list-associated-access-policies-$name.json" \
    eks list-associated-access-policies --cluster-name "$CLUSTER" --principal-arn "$principal"
done

# ---------------------------------------------------------------- Pod Identity
save aws-eks-list-pod-identity-associations.json eks list-pod-identity-associations --cluster-name "$CLUSTER"
ids=$(awsq eks list-pod-identity-associations --cluster-name "$CLUSTER" \
  --query 'associations[].associationId' --output text | words) || true
for id in $ids; do
  save "aws-eks-describe-pod-identity-association-$(safe "$id").json" \
    eks describe-pod-identity-association --cluster-name "$CLUSTER" --association-id "$id"
done

# ---------------------------------------------------------------- add-ons
addons=$(awsq eks list-addons --cluster-name "$CLUSTER" --query 'addons[]' --output text | words) || true
for addon in $addons; do
  save "aws-eks-describe-addon-$(safe "$addon").json" eks describe-addon --cluster-name "$CLUSTER" --addon-name "$addon"
done

# ---------------------------------------------------------------- EMR on EKS
save aws-emr-containers-list-virtual-clusters.json emr-containers list-virtual-clusters \
  --container-provider-id "$CLUSTER" --container-provider-type EKS
since=$(days_ago "$JOB_RUN_DAYS")
vcs=0
vc_ids=$(awsq emr-containers list-virtual-clusters --container-provider-id "$CLUSTER" --container-provider-type EKS \
  --query "virtualClusters[?state!='TERMINATED'].id" --output text | words) || true
for vc in $vc_ids; do
  vcs=$((vcs + 1))
  save "aws-emr-containers-list-managed-endpoints-$vc.json" emr-containers list-managed-endpoints --virtual-cluster-id "$vc"
  save "aws-emr-containers-list-job-runs-$vc.json" emr-containers list-job-runs --virtual-cluster-id "$vc" --created-after "$since"
done
# job templates are account-wide; StartJobRun policies and job runs refer to them by ARN
tpls=$(awsq emr-containers list-job-templates --query 'templates[].id' --output text | words) || true
for tpl in $tpls; do
  save "aws-emr-containers-describe-job-template-$(safe "$tpl").json" emr-containers describe-job-template --id "$tpl"
done

# ---------------------------------------------------------------- IAM
save aws-iam-get-account-authorization-details.json iam get-account-authorization-details
save aws-iam-list-open-id-connect-providers.json iam list-open-id-connect-providers

# ---------------------------------------------------------------- EC2 / ELB networking
vpc_filter=()
if [[ -n $VPC && $VPC != None ]]; then
  vpc_filter=(--filters "Name=vpc-id,Values=$VPC")
fi
# ${a[@]+"${a[@]}"}: an empty array under `set -u` on bash 3.2 (macOS)
save aws-ec2-describe-security-groups.json ec2 describe-security-groups ${vpc_filter[@]+"${vpc_filter[@]}"}
save aws-ec2-describe-subnets.json ec2 describe-subnets ${vpc_filter[@]+"${vpc_filter[@]}"}
save aws-ec2-describe-route-tables.json ec2 describe-route-tables ${vpc_filter[@]+"${vpc_filter[@]}"}
save aws-ec2-describe-instances.json ec2 describe-instances ${vpc_filter[@]+"${vpc_filter[@]}"}
save aws-elbv2-describe-load-balancers.json elbv2 describe-load-balancers

# ---------------------------------------------------------------- ECR
save aws-ecr-describe-repositories.json ecr describe-repositories
save aws-ecr-get-registry-scanning-configuration.json ecr get-registry-scanning-configuration
repos=$(awsq ecr describe-repositories --query 'repositories[].repositoryName' --output text | words) || true
for repo in $repos; do
  save "aws-ecr-describe-images-$(safe "$repo").json" ecr describe-images --repository-name "$repo"
done

# ---------------------------------------------------------------- CloudTrail (optional)
if [[ -n ${CLOUDTRAIL_S3_PREFIX:-} ]]; then
  mkdir -p "$OUT/cloudtrail"
  if aws --region "$REGION" s3 cp --recursive --only-show-errors --exclude '*' --include '*.json.gz' \
    "$CLOUDTRAIL_S3_PREFIX" "$OUT/cloudtrail/" 2>>"$LOG"; then
    files=$((files + $(find "$OUT/cloudtrail" -type f | wc -l)))
    log "ok   cloudtrail from $CLOUDTRAIL_S3_PREFIX"
  else
    fail "cloudtrail s3 cp $CLOUDTRAIL_S3_PREFIX"
  fi
fi

# ---------------------------------------------------------------- Kubernetes
# one kind per file, so that a kind we may not read does not lose the others
for kind in namespaces pods serviceaccounts configmaps roles rolebindings clusterroles clusterrolebindings \
  deployments daemonsets statefulsets replicasets jobs cronjobs networkpolicies mutatingwebhookconfigurations; do
  ksave "kubectl-get-$kind.json" get "$kind" -A -o json
done
# Karpenter (when installed): EC2NodeClass metadataOptions decide IMDS reach from pods.
for res in ec2nodeclasses.karpenter.k8s.aws nodepools.karpenter.sh; do
  group=${res#*.}
  if "${KUBECTL[@]}" api-resources --api-group="$group" -o name 2>/dev/null | grep -qx "$res"; then
    ksave "kubectl-get-${res%%.*}.json" get "$res" -o json
  else
    # An empty list says "no Karpenter here", so check counts the kind as read, not missing.
    printf '{"apiVersion":"v1","kind":"List","items":[]}\n' >"$OUT/kubectl-get-${res%%.*}.json"
    files=$((files + 1))
    log "skip kubectl get $res: not installed in the cluster (empty list written)"
  fi
done
# secrets: metadata only, never .data/.stringData (nor a last-applied copy of them)
if [[ -n ${SKIP_SECRETS:-} ]]; then
  log "skip secrets: SKIP_SECRETS is set"
elif command -v jq >/dev/null 2>&1; then
  tmp="$OUT/.secrets.tmp"
  if "${KUBECTL[@]}" get secrets -A -o json 2>>"$LOG" |
    jq 'del(.items[].data, .items[].stringData)
        | del(.items[].metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"])' >"$tmp"; then
    mv "$tmp" "$OUT/kubectl-get-secrets.json"
    files=$((files + 1))
    log "ok   kubectl get secrets -A (metadata only)"
  else
    rm -f "$tmp"
    fail "kubectl get secrets -A -o json"
  fi
else
  log "skip secrets: jq not found (secret metadata is optional; secret values are never collected)"
  echo "collect.sh: note: jq not found, secrets metadata skipped" >&2
fi

# ---------------------------------------------------------------- summary
rm -f "$ERR"
failures=$(grep -c '^[^#][^ ]* FAIL ' "$LOG" || true)
log "done files=$files failed=$failures"
echo
echo "emrguard snapshot: $OUT"
echo "  cluster:           $CLUSTER ($REGION), VPC ${VPC:-unknown}"
echo "  virtual clusters:  $vcs active"
echo "  files written:     $files"
echo "  failed commands:   $failures (details in $LOG)"
grep '^[^#][^ ]* FAIL ' "$LOG" | sed 's/^[^ ]* FAIL /    - /' || true
echo "  not collected:     node iptables-save output (*.iptables) and Dockerfiles; copy them in by hand"
echo "next: emrguard check $OUT"
if [[ $failures -gt 0 ]]; then
  echo "collect.sh: $failures command(s) failed; the snapshot is incomplete (emrguard check reports what it could not evaluate)" >&2
  exit 1
fi
