//! EC2 and ELBv2 outputs (`describe-security-groups`, `describe-subnets`,
//! `describe-route-tables`, `describe-launch-template-versions`, `describe-instances`,
//! `elbv2 describe-load-balancers`). The CLI prints the EC2 query protocol in PascalCase.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: String,
}

pub fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key == key).map(|t| t.value.as_str())
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecurityGroup {
    #[serde(default)]
    pub group_id: String,
    #[serde(default)]
    pub group_name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub ip_permissions: Vec<IpPermission>,
    #[serde(default)]
    pub ip_permissions_egress: Vec<IpPermission>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpPermission {
    /// `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number.
    #[serde(default)]
    pub ip_protocol: String,
    #[serde(default)]
    pub from_port: Option<i64>,
    #[serde(default)]
    pub to_port: Option<i64>,
    #[serde(default)]
    pub ip_ranges: Vec<IpRange>,
    #[serde(default)]
    pub ipv6_ranges: Vec<Ipv6Range>,
    #[serde(default)]
    pub prefix_list_ids: Vec<PrefixListId>,
    #[serde(default)]
    pub user_id_group_pairs: Vec<UserIdGroupPair>,
}

impl IpPermission {
    /// The port range as people say it: `443`, `0-65535`, `all`.
    pub fn ports(&self) -> String {
        if self.ip_protocol == "-1" {
            return "all ports".to_owned();
        }
        match (self.from_port, self.to_port) {
            (Some(a), Some(b)) if a == b => format!("{}/{a}", self.ip_protocol),
            (Some(a), Some(b)) if a <= 0 && b >= 65535 => format!("{}/all ports", self.ip_protocol),
            (Some(a), Some(b)) => format!("{}/{a}-{b}", self.ip_protocol),
            _ => format!("{}/all ports", self.ip_protocol),
        }
    }

    /// Whether the rule admits traffic to `port` over TCP.
    pub fn admits_tcp_port(&self, port: i64) -> bool {
        match self.ip_protocol.as_str() {
            "-1" | "all" => true,
            "tcp" | "6" => match (self.from_port, self.to_port) {
                (Some(a), Some(b)) => a <= port && port <= b,
                _ => true,
            },
            _ => false,
        }
    }

    /// Whether the rule opens more than TCP 443.
    pub fn beyond_443(&self) -> bool {
        !(matches!(self.ip_protocol.as_str(), "tcp" | "6")
            && self.from_port == Some(443)
            && self.to_port == Some(443))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IpRange {
    #[serde(default)]
    pub cidr_ip: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Ipv6Range {
    #[serde(default)]
    pub cidr_ipv6: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrefixListId {
    #[serde(default)]
    pub prefix_list_id: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserIdGroupPair {
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub group_name: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Subnet {
    #[serde(default)]
    pub subnet_id: String,
    #[serde(default)]
    pub vpc_id: String,
    #[serde(default)]
    pub cidr_block: Option<String>,
    #[serde(default)]
    pub availability_zone: Option<String>,
    #[serde(default)]
    pub map_public_ip_on_launch: Option<bool>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTable {
    #[serde(default)]
    pub route_table_id: String,
    #[serde(default)]
    pub vpc_id: String,
    #[serde(default)]
    pub associations: Vec<RouteTableAssociation>,
    #[serde(default)]
    pub routes: Vec<Route>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl RouteTable {
    pub fn is_main(&self) -> bool {
        self.associations.iter().any(|a| a.main)
    }
    /// The first route that sends the whole internet (`0.0.0.0/0` or `::/0`) to an internet
    /// gateway: such a table makes its subnets public.
    pub fn internet_route(&self) -> Option<&Route> {
        self.routes.iter().find(|r| {
            let default = r.destination_cidr_block.as_deref() == Some("0.0.0.0/0")
                || r.destination_ipv6_cidr_block.as_deref() == Some("::/0");
            default
                && r.gateway_id
                    .as_deref()
                    .is_some_and(|g| g.starts_with("igw-"))
                && r.state.as_deref() != Some("blackhole")
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RouteTableAssociation {
    #[serde(default)]
    pub main: bool,
    #[serde(default)]
    pub subnet_id: Option<String>,
    #[serde(default)]
    pub route_table_association_id: Option<String>,
    #[serde(default)]
    pub gateway_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Route {
    #[serde(default)]
    pub destination_cidr_block: Option<String>,
    #[serde(default)]
    pub destination_ipv6_cidr_block: Option<String>,
    #[serde(default)]
    pub destination_prefix_list_id: Option<String>,
    #[serde(default)]
    pub gateway_id: Option<String>,
    #[serde(default)]
    pub nat_gateway_id: Option<String>,
    #[serde(default)]
    pub transit_gateway_id: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MetadataOptions {
    #[serde(default)]
    pub state: Option<String>,
    /// `optional` | `required`.
    #[serde(default)]
    pub http_tokens: Option<String>,
    #[serde(default)]
    pub http_put_response_hop_limit: Option<i64>,
    /// `enabled` | `disabled`.
    #[serde(default)]
    pub http_endpoint: Option<String>,
    #[serde(default)]
    pub http_protocol_ipv6: Option<String>,
    #[serde(default)]
    pub instance_metadata_tags: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IamInstanceProfileRef {
    #[serde(default)]
    pub arn: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateData {
    #[serde(default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub iam_instance_profile: Option<IamInstanceProfileRef>,
    /// Base64 as printed; decoded by the loader into [`LaunchTemplateVersion::user_data`].
    #[serde(default)]
    pub user_data: Option<String>,
    #[serde(default)]
    pub security_group_ids: Vec<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub metadata_options: Option<MetadataOptions>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LaunchTemplateVersion {
    #[serde(default)]
    pub launch_template_id: String,
    #[serde(default)]
    pub launch_template_name: String,
    #[serde(default)]
    pub version_number: i64,
    #[serde(default)]
    pub default_version: bool,
    #[serde(default)]
    pub launch_template_data: LaunchTemplateData,
    /// Decoded user data (filled by the loader; not part of the CLI output).
    #[serde(skip)]
    pub user_data: Option<crate::node::UserData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Reservation {
    #[serde(default)]
    pub reservation_id: Option<String>,
    #[serde(default)]
    pub owner_id: Option<String>,
    #[serde(default)]
    pub instances: Vec<Instance>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct InstanceState {
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupIdentifier {
    #[serde(default)]
    pub group_id: Option<String>,
    #[serde(default)]
    pub group_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    #[serde(default)]
    pub instance_id: String,
    #[serde(default)]
    pub image_id: Option<String>,
    #[serde(default)]
    pub instance_type: Option<String>,
    #[serde(default)]
    pub iam_instance_profile: Option<IamInstanceProfileRef>,
    #[serde(default)]
    pub metadata_options: Option<MetadataOptions>,
    #[serde(default)]
    pub subnet_id: Option<String>,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default)]
    pub private_dns_name: Option<String>,
    #[serde(default)]
    pub private_ip_address: Option<String>,
    #[serde(default)]
    pub public_ip_address: Option<String>,
    #[serde(default)]
    pub key_name: Option<String>,
    #[serde(default)]
    pub state: Option<InstanceState>,
    #[serde(default)]
    pub security_groups: Vec<GroupIdentifier>,
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl Instance {
    /// Not terminated or shutting down (pending, running, stopping and stopped instances keep
    /// their settings).
    pub fn is_live(&self) -> bool {
        !matches!(
            self.state.as_ref().and_then(|s| s.name.as_deref()),
            Some("terminated") | Some("shutting-down")
        )
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AvailabilityZone {
    #[serde(default)]
    pub zone_name: Option<String>,
    #[serde(default)]
    pub subnet_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoadBalancer {
    #[serde(default)]
    pub load_balancer_arn: String,
    #[serde(default, rename = "DNSName")]
    pub dns_name: String,
    #[serde(default)]
    pub load_balancer_name: String,
    /// `internet-facing` | `internal`.
    #[serde(default)]
    pub scheme: String,
    #[serde(default)]
    pub vpc_id: Option<String>,
    #[serde(default, rename = "Type")]
    pub lb_type: Option<String>,
    #[serde(default)]
    pub security_groups: Vec<String>,
    #[serde(default)]
    pub availability_zones: Vec<AvailabilityZone>,
    #[serde(default)]
    pub ip_address_type: Option<String>,
    /// `elbv2 describe-tags` merged in when the snapshot has it.
    #[serde(default)]
    pub tags: Vec<Tag>,
}

impl LoadBalancer {
    pub fn is_internet_facing(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("internet-facing")
    }
}
