#pragma once

#include "confab/model/user.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::model {

enum class Role { restricted, member, moderator, admin, owner };  // ordered by power

std::string_view to_string(Role role);
std::optional<Role> role_from(std::string_view text);

// What a role may do in a chat (docs/api.md, Roles and permissions); domain/rules decides
// who holds which.
enum class Permission {
    post,
    post_media,
    react,
    mention_all,
    add_members,
    remove_members,
    edit_info,
    change_settings,
    pin,
    delete_messages,
    manage_templates,
    manage_roles,
    ban,
    manage_invite_links,
    handle_reports,
};
std::string_view to_string(Permission permission);
std::optional<Permission> permission_from(std::string_view text);
// Every permission, in the order above.
const std::vector<Permission>& every_permission();

// A role an owner defined in their group (docs/api.md, Custom roles): it ranks as its
// built-in `rank` (who stands above whom, who slow mode and the only_admins_can_* settings
// spare) and grants exactly its own permissions.
struct CustomRole {
    std::string id;
    std::string chat_id;
    std::string name;
    Role rank = Role::member;
    std::vector<Permission> permissions;  // in the order of Permission
    Timestamp created_at;
};

}  // namespace confab::model
