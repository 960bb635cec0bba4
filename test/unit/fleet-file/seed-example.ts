/**
 * The node-group notes' own example (seeds/001), verbatim: JSON with one single-quoted string,
 * which YAML reads as it is, so the file the notes wrote loads unchanged.
 */
export const SEED_NODES_JSON = `{
  "__base__": {
    "autoscale": false,
    "type": "amazon-ebs",
    "region": "us-east-1",
    "instance_type": "m1.large",
    "source_ami": "ami-1ebb2077",
    "security_groups": ["external", "internal"],
    "default_attributes": {
      "environment": "production",
      "key": "value"
    },
    "run_list": [
      "recipe[seatgeek::base-server]",
      "recipe[seatgeek::collect-services]",
      "recipe[seatgeek::decommission-services]"
    ],
    "post_run_list": [
      "recipe[seatgeek::notify-services]",
      "recipe[sudo]"
    ]
  },
  "12_04-bee": {
    "description": '12_04-bee-ec2 instance, responsible for worker processes',
    "autoscale": {
      "timeout": 120,
      "node_min": 2,
      "node_max": 2
    },
    "instance_type": "m1.large",
    "security_groups": ["bee"],
    "default_attributes": {
      "other_key": "value"
    },
    "run_list": [
      "recipe[seatgeek-service::api-workers]",
      "recipe[seatgeek-service::cronq-workers]",
      "recipe[seatgeek-service::djjob]"
    ]
  },
  "12_04-www": {
    "description": "www-ec2 instance, responsible for the seatgeek frontend site",
    "instance_type": "m3.xlarge",
    "security_groups": ["www"],
    "run_list": [
      "recipe[seatgeek::customer-web]"
    ]
  }
}
`;
