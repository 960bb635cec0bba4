/**
 * The Chef role of a group, as the node-group notes render it (`role:create`): `role-<group>`,
 * the merged attributes, and the run list with `post_run_list` last. Hosts provision by running
 * chef-client on that role, which is what a group's bootstrap does unless the file says otherwise.
 */
import type { FleetGroup } from './resolve.ts';

export interface ChefRole {
  name: string;
  chef_type: 'role';
  json_class: 'Chef::Role';
  description: string;
  override_attributes: Record<string, unknown>;
  default_attributes: Record<string, unknown>;
  run_list: string[];
}

export const chefRoleName = (group: string): string => `role-${group}`;

/**
 * Provisions a host as its group: chef-client in local mode (the chef repository, with the roles
 * `drover fleet role --write roles/` wrote, is on the host), setting the node's run list to the
 * role. DROVER_LIFECYCLE tells recipes why they run.
 */
export const defaultBootstrap = (group: string): string =>
  `DROVER_LIFECYCLE=bootstrap chef-client --local-mode --runlist 'role[${chefRoleName(group)}]'`;

/**
 * Runs the role once more before the host goes, with DROVER_LIFECYCLE=decommission so recipes
 * (the notes' `decommission-services`) take its services away; the node's run list is unchanged.
 */
export const defaultDecommission = (group: string): string =>
  `DROVER_LIFECYCLE=decommission chef-client --local-mode --override-runlist 'role[${chefRoleName(group)}]'`;

/** The group's role, keys in the order of the notes' example. */
export function chefRole(group: FleetGroup): ChefRole {
  return {
    name: chefRoleName(group.name),
    chef_type: 'role',
    json_class: 'Chef::Role',
    description: group.settings.description ?? '',
    override_attributes: group.settings.override_attributes ?? {},
    default_attributes: group.settings.default_attributes ?? {},
    run_list: group.runList,
  };
}
