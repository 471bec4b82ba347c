#include "support/api_documents.hpp"

#include <regex>
#include <set>

namespace confab::test {

// Path keys at two spaces of indent, methods at four, an operation's fields at six.
std::vector<DocumentedOperation> documented_operations(std::istream& in, std::vector<std::string>& duplicates) {
    static const std::regex path_key(R"(^  (/[^:\s]*|'/[^']*'|"/[^"]*"):\s*(#.*)?$)");
    static const std::regex method_key(R"(^    (get|put|post|delete|options|head|patch|trace):\s*(#.*)?$)");
    static const std::regex top_level_key(R"(^[^\s#][^:]*:)");
    static const std::regex operation_field(R"(^      ([A-Za-z]+):)");
    std::vector<DocumentedOperation> operations;
    std::set<std::string> paths, seen;
    std::string line, path, field;
    bool in_paths = false;
    DocumentedOperation* operation = nullptr;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::smatch match;
        if (std::regex_search(line, top_level_key)) {
            in_paths = line.rfind("paths:", 0) == 0;
            path.clear();
            operation = nullptr;
        } else if (!in_paths) {
            continue;
        } else if (std::regex_match(line, match, path_key)) {
            path = match[1].str();
            if (path.front() == '\'' || path.front() == '"') path = path.substr(1, path.size() - 2);
            if (!paths.insert(path).second) duplicates.push_back(path);
            operation = nullptr;
        } else if (!path.empty() && std::regex_match(line, match, method_key)) {
            if (!seen.insert(match[1].str() + " " + path).second) duplicates.push_back(match[1].str() + " " + path);
            operation = &operations.emplace_back(DocumentedOperation{match[1].str(), path});
        } else if (operation != nullptr && std::regex_search(line, match, operation_field)) {
            field = match[1].str();
            if (field == "security" && line.find("[]") != std::string::npos) operation->open = true;
        } else if (operation != nullptr && field == "requestBody" &&
                   line.find("application/json:") != std::string::npos) {
            operation->json_body = true;
        }
    }
    return operations;
}

// Operations at two spaces of indent under `operations:`, their fields at four.
std::vector<std::string> documented_client_events(std::istream& in) {
    static const std::regex operation_key(R"(^  [A-Za-z0-9_]+:\s*$)");
    static const std::regex title(R"(^    title:\s*'?([a-z_.]+)'?\s*$)");
    std::vector<std::string> events;
    std::string line;
    bool in_operations = false, receiving = false;
    std::string pending_title;
    const auto close = [&] {
        if (receiving && !pending_title.empty()) events.push_back(pending_title);
        receiving = false;
        pending_title.clear();
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        std::smatch match;
        if (!line.empty() && line.front() != ' ' && line.front() != '#') {
            close();
            in_operations = line.rfind("operations:", 0) == 0;
        } else if (!in_operations) {
            continue;
        } else if (std::regex_match(line, operation_key)) {
            close();
        } else if (line == "    action: receive") {
            receiving = true;
        } else if (std::regex_match(line, match, title)) {
            pending_title = match[1].str();
        }
    }
    close();
    return events;
}

}  // namespace confab::test
