// How the rules' tables write a verdict down, shared by the table tests of tests/unit/domain.
#pragma once

#include "confab/domain/audience.hpp"
#include "confab/model/error.hpp"

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

namespace confab::domain::verdicts {

// 'A' when the call allows, else the first letter of the refusal's code ('F' forbidden).
inline char answer(const std::function<void()>& call) {
    try {
        call();
        return 'A';
    } catch (const model::Error& error) {
        switch (error.code()) {
            case model::ErrorCode::forbidden: return 'F';
            case model::ErrorCode::not_found: return 'N';
            case model::ErrorCode::conflict: return 'C';
            case model::ErrorCode::bad_request: return 'B';
            default: return '?';
        }
    }
}

// "admits" when the call allows, else the refusal's code and details.reason.
inline std::string reason(const std::function<void()>& call) {
    try {
        call();
        return "admits";
    } catch (const model::Error& error) {
        return std::string(to_string(error.code())) + ":" + error.reason.value_or("");
    }
}

// 'x' under each person of the cast who receives one of the parcels, '.' under the others,
// '2' under one who receives the event twice.
template <typename Cast>
std::string receivers(const std::vector<Parcel>& parcels, const Cast& cast) {
    std::string marks;
    for (const std::string person : cast) {
        const auto count = std::count_if(parcels.begin(), parcels.end(), [&](const Parcel& parcel) {
            return std::count(parcel.recipients.begin(), parcel.recipients.end(), person);
        });
        marks += count == 0 ? '.' : count == 1 ? 'x' : '2';
    }
    return marks;
}

}  // namespace confab::domain::verdicts
