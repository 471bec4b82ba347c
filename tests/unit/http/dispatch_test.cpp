#include "confab/http/dispatch.hpp"

#include <gtest/gtest.h>

namespace confab::http {
namespace {

TEST(LoggablePath, AMatchedRouteThatCarriesACodeIsShownAsTheRoute) {
    EXPECT_EQ(loggable_path("/api/v1/invite-links/S3cr3t/join", "/api/v1/invite-links/{code}/join"),
              "/api/v1/invite-links/{code}/join");
    EXPECT_EQ(loggable_path("/api/v1/chats/c1/messages", "/api/v1/chats/{id}/messages"), "/api/v1/chats/c1/messages");
}

// A wrong method or a near miss matches no route, yet its path may hold a code.
TEST(LoggablePath, AnUnmatchedPathHidesTheSegmentAfterInviteLinks) {
    EXPECT_EQ(loggable_path("/api/v1/invite-links/S3cr3t/join", ""), "/api/v1/invite-links/{code}/join");
    EXPECT_EQ(loggable_path("/api/v1/invite-links/S3cr3t", ""), "/api/v1/invite-links/{code}");
    EXPECT_EQ(loggable_path("/api/v1/invite-links/S3cr3t/", ""), "/api/v1/invite-links/{code}/");
    EXPECT_EQ(loggable_path("/api/v1/chats/c1/invite-links/S3cr3t/x", ""), "/api/v1/chats/c1/invite-links/{code}/x");
    EXPECT_EQ(loggable_path("/a/invite-links/one/invite-links/two", ""), "/a/invite-links/{code}/invite-links/{code}");
    EXPECT_EQ(loggable_path("/api/v1/chats/c1/invite-links", ""), "/api/v1/chats/c1/invite-links");
    EXPECT_EQ(loggable_path("/api/v1/nothing/here", ""), "/api/v1/nothing/here");
}

}  // namespace
}  // namespace confab::http
