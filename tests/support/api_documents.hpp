#pragma once

// What docs/openapi.yaml and docs/asyncapi.yaml name, read with a few regular expressions
// (the documents' own validity is checked by tools/api-docs/validate.mjs): enough for the
// tests that hold the router to the document and sweep every operation and client event.

#include <istream>
#include <string>
#include <vector>

namespace confab::test {

struct DocumentedOperation {
    std::string method;      // lower case
    std::string path;        // the template, e.g. /api/v1/chats/{id}/members/{user_id}
    bool json_body = false;  // its requestBody has application/json
    bool open = false;       // `security: []`: no credentials needed

    bool operator==(const DocumentedOperation&) const = default;
};

// In document order. A path or an operation documented twice is put in `duplicates`.
std::vector<DocumentedOperation> documented_operations(std::istream& in, std::vector<std::string>& duplicates);

// The `type`s of the client events asyncapi.yaml documents: the titles of its `receive`
// operations, in document order.
std::vector<std::string> documented_client_events(std::istream& in);

}  // namespace confab::test
