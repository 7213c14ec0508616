//! The estate's own values (EKS cluster, region, account, partition) that fix texts and
//! `emrguard fix`'s `apply.sh` fill into commands. One place, so a rule's `fix:` sentence and
//! the script never disagree. A value the snapshot does not hold stays an upper-case
//! placeholder (`CLUSTER`, `REGION`, ...), which a reader sees as one to fill in.

use emrguard_model::EstateIndex;

/// Values for commands, read from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstateValues {
    pub cluster: Option<String>,
    pub region: Option<String>,
    pub account: Option<String>,
    pub partition: Option<String>,
}

impl EstateValues {
    /// From the snapshot: the first EKS cluster (the snapshot is of one estate), else the
    /// virtual clusters' EKS cluster; account, region and partition from the cluster's ARN, else
    /// from any IAM role ARN (account, partition) or virtual cluster ARN (region).
    pub fn of(index: &EstateIndex<'_>) -> Self {
        let snap = index.snap;
        let cluster_arn = snap.clusters.first().map(|c| c.arn.as_str());
        let cluster = snap.clusters.first().map(|c| c.name.clone()).or_else(|| {
            snap.virtual_clusters
                .iter()
                .find_map(|v| v.eks_cluster().map(str::to_owned))
        });
        let vc_arn = snap
            .virtual_clusters
            .iter()
            .map(|v| v.arn.as_str())
            .find(|a| a.starts_with("arn:"));
        let role_arn = snap.roles.first().map(|r| r.arn.as_str());
        let field = |arn: Option<&str>, i: usize| -> Option<String> {
            arn?.split(':')
                .nth(i)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        EstateValues {
            cluster,
            region: field(cluster_arn, 3).or_else(|| field(vc_arn, 3)),
            account: field(cluster_arn, 4)
                .or_else(|| field(role_arn, 4))
                .or_else(|| field(vc_arn, 4)),
            partition: field(cluster_arn, 1)
                .or_else(|| field(role_arn, 1))
                .or_else(|| field(vc_arn, 1)),
        }
    }

    /// The EKS cluster's name for `--cluster-name`, or `CLUSTER`.
    pub fn cluster(&self) -> &str {
        self.cluster.as_deref().unwrap_or("CLUSTER")
    }
    pub fn region(&self) -> &str {
        self.region.as_deref().unwrap_or("REGION")
    }
    pub fn account(&self) -> &str {
        self.account.as_deref().unwrap_or("ACCOUNT")
    }
    /// `aws` unless the snapshot says otherwise (`aws-cn`, `aws-us-gov`).
    pub fn partition(&self) -> &str {
        self.partition.as_deref().unwrap_or("aws")
    }
    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` with this estate's values.
    pub fn arn(&self, service: &str, resource: &str) -> String {
        format!(
            "arn:{}:{service}:{}:{}:{resource}",
            self.partition(),
            self.region(),
            self.account()
        )
    }
    /// An IAM role's ARN in this account.
    pub fn role_arn(&self, role_name: &str) -> String {
        format!(
            "arn:{}:iam::{}:role/{role_name}",
            self.partition(),
            self.account()
        )
    }
    /// An AWS managed policy's ARN (`arn:aws:iam::aws:policy/NAME`).
    pub fn aws_policy_arn(&self, name: &str) -> String {
        format!("arn:{}:iam::aws:policy/{name}", self.partition())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use emrguard_model::{aws::eks::Cluster, Located, Snapshot, SourceLoc};

    #[test]
    fn values_come_from_the_cluster_arn_and_fall_back_to_placeholders() {
        let mut s = Snapshot::default();
        let v = EstateValues::of(&EstateIndex::build(&s));
        assert_eq!(
            (v.cluster(), v.region(), v.account(), v.partition()),
            ("CLUSTER", "REGION", "ACCOUNT", "aws")
        );
        s.clusters.push(Located::new(
            Cluster {
                name: "prod".into(),
                arn: "arn:aws-cn:eks:cn-north-1:111122223333:cluster/prod".into(),
                ..Default::default()
            },
            SourceLoc::new("c.json", "/cluster", None),
        ));
        let v = EstateValues::of(&EstateIndex::build(&s));
        assert_eq!(v.cluster(), "prod");
        assert_eq!(
            v.arn("logs", "log-group:/emr/*"),
            "arn:aws-cn:logs:cn-north-1:111122223333:log-group:/emr/*"
        );
        assert_eq!(v.role_arn("r"), "arn:aws-cn:iam::111122223333:role/r");
    }
}
