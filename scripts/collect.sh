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
#   AWS_PROFILE, AWS_*     the usual AWS CLI settings
set -euo pipefail

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
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

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${OUT:-./emrguard-snapshot-${CLUSTER}-${STAMP}}
JOB_RUN_DAYS=${JOB_RUN_DAYS:-30}
mkdir -p "$OUT"
LOG="$OUT/collect.log"
: >"$LOG"

export AWS_PAGER=""
KUBECTL=(kubectl)
if [[ -n ${KUBE_CONTEXT:-} ]]; then
  KUBECTL+=(--context "$KUBE_CONTEXT")
fi

files=0
failures=0

log() { printf '%s %s\n' "$(date -u +%H:%M:%SZ)" "$*" >>"$LOG"; }
warn() {
  failures=$((failures + 1))
  log "WARN $*"
  printf 'collect.sh: warning: %s\n' "$*" >&2
}

# awsq ARGS...: an AWS CLI call whose output is only used to drive the collection (ids, names).
awsq() {
  aws --region "$REGION" "$@" 2>>"$LOG"
}

# save FILE ARGS...: run `aws ARGS --output json` into FILE; on failure keep going.
save() {
  local file=$1
  shift
  local tmp="$OUT/.$file.tmp"
  if aws --region "$REGION" --output json "$@" >"$tmp" 2>>"$LOG"; then
    mv "$tmp" "$OUT/$file"
    files=$((files + 1))
    log "ok   aws $*"
  else
    rm -f "$tmp"
    warn "aws $* failed (see $LOG)"
  fi
}

# ksave FILE ARGS...: run `kubectl ARGS` into FILE; on failure keep going.
ksave() {
  local file=$1
  shift
  local tmp="$OUT/.$file.tmp"
  if "${KUBECTL[@]}" "$@" >"$tmp" 2>>"$LOG"; then
    mv "$tmp" "$OUT/$file"
    files=$((files + 1))
    log "ok   kubectl $*"
  else
    rm -f "$tmp"
    warn "kubectl $* failed (see $LOG)"
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
if ident=$(awsq sts get-caller-identity --query Arn --output text); then
  log "caller $ident"
fi

# ---------------------------------------------------------------- EKS cluster
save aws-eks-describe-cluster.json eks describe-cluster --name "$CLUSTER"
VPC=$(awsq eks describe-cluster --name "$CLUSTER" --query cluster.resourcesVpcConfig.vpcId --output text || true)
[[ -n $VPC && $VPC != None ]] || warn "could not read the cluster VPC; EC2 files will be region-wide"

# ---------------------------------------------------------------- node groups + launch templates
lt_seen=" "
ngs=$(awsq eks list-nodegroups --cluster-name "$CLUSTER" --query 'nodegroups[]' --output text | words) ||
  warn "eks list-nodegroups failed"
for ng in $ngs; do
  save "aws-eks-describe-nodegroup-$(safe "$ng").json" eks describe-nodegroup --cluster-name "$CLUSTER" --nodegroup-name "$ng"
  lt=$(awsq eks describe-nodegroup --cluster-name "$CLUSTER" --nodegroup-name "$ng" \
    --query 'nodegroup.launchTemplate.id' --output text || true)
  if [[ -n $lt && $lt != None && $lt_seen != *" $lt "* ]]; then
    lt_seen="$lt_seen$lt "
    # all versions: the node group may pin a version that is not the template's default
    save "aws-ec2-describe-launch-template-versions-$(safe "$lt").json" \
      ec2 describe-launch-template-versions --launch-template-id "$lt"
  fi
done

# ---------------------------------------------------------------- access entries
principals=$(awsq eks list-access-entries --cluster-name "$CLUSTER" --query 'accessEntries[]' --output text | words) ||
  warn "eks list-access-entries failed"
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
  --query 'associations[].associationId' --output text | words) || warn "eks list-pod-identity-associations failed"
for id in $ids; do
  save "aws-eks-describe-pod-identity-association-$(safe "$id").json" \
    eks describe-pod-identity-association --cluster-name "$CLUSTER" --association-id "$id"
done

# ---------------------------------------------------------------- add-ons
addons=$(awsq eks list-addons --cluster-name "$CLUSTER" --query 'addons[]' --output text | words) ||
  warn "eks list-addons failed"
for addon in $addons; do
  save "aws-eks-describe-addon-$(safe "$addon").json" eks describe-addon --cluster-name "$CLUSTER" --addon-name "$addon"
done

# ---------------------------------------------------------------- EMR on EKS
save aws-emr-containers-list-virtual-clusters.json emr-containers list-virtual-clusters \
  --container-provider-id "$CLUSTER" --container-provider-type EKS
since=$(days_ago "$JOB_RUN_DAYS")
vcs=0
vc_ids=$(awsq emr-containers list-virtual-clusters --container-provider-id "$CLUSTER" --container-provider-type EKS \
  --query "virtualClusters[?state!='TERMINATED'].id" --output text | words) || warn "emr-containers list-virtual-clusters failed"
for vc in $vc_ids; do
  vcs=$((vcs + 1))
  save "aws-emr-containers-list-managed-endpoints-$vc.json" emr-containers list-managed-endpoints --virtual-cluster-id "$vc"
  save "aws-emr-containers-list-job-runs-$vc.json" emr-containers list-job-runs --virtual-cluster-id "$vc" --created-after "$since"
done
# job templates are account-wide; StartJobRun policies and job runs refer to them by ARN
tpls=$(awsq emr-containers list-job-templates --query 'templates[].id' --output text | words) ||
  warn "emr-containers list-job-templates failed"
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
repos=$(awsq ecr describe-repositories --query 'repositories[].repositoryName' --output text | words) ||
  warn "ecr describe-repositories failed"
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
    warn "could not copy CloudTrail files from $CLOUDTRAIL_S3_PREFIX"
  fi
fi

# ---------------------------------------------------------------- Kubernetes
current=$("${KUBECTL[@]}" config current-context 2>/dev/null || true)
log "kubectl context: ${current:-unknown}"
if [[ $current != *"$CLUSTER"* ]]; then
  warn "kubectl context '${current:-unknown}' does not mention '$CLUSTER'; check that it points at the right cluster"
fi
# one kind per file, so that a kind we may not read does not lose the others
for kind in namespaces pods serviceaccounts configmaps roles rolebindings clusterroles clusterrolebindings \
  deployments daemonsets statefulsets replicasets jobs cronjobs networkpolicies mutatingwebhookconfigurations; do
  ksave "kubectl-get-$kind.json" get "$kind" -A -o json
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
    warn "kubectl get secrets failed (see $LOG)"
  fi
else
  log "skip secrets: jq not found (secret metadata is optional; secret values are never collected)"
  echo "collect.sh: note: jq not found, secrets metadata skipped" >&2
fi

# ---------------------------------------------------------------- summary
echo
echo "emrguard snapshot: $OUT"
echo "  cluster:           $CLUSTER ($REGION), VPC ${VPC:-unknown}"
echo "  virtual clusters:  $vcs active"
echo "  files written:     $files"
echo "  failed commands:   $failures (details in $LOG)"
echo "  not collected:     node iptables-save output (*.iptables) and Dockerfiles; copy them in by hand"
echo "next: emrguard check $OUT"
