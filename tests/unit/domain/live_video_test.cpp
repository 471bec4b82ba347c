// The bound on a live photo's motion part (docs/api.md, Live photos).

#include "confab/domain/media_service.hpp"

#include <gtest/gtest.h>

namespace confab::domain {
namespace {

TEST(LiveVideoDuration, UpToFiveSecondsIsAccepted) {
    for (const std::int64_t ms : {0, 1, 1000, 4999, 5000}) EXPECT_NO_THROW(require_live_video_duration(ms)) << ms;
}

TEST(LiveVideoDuration, LongerIsTooLargeWithTheBoundAndTheDuration) {
    for (const std::int64_t ms : std::initializer_list<std::int64_t>{5001, 6000, std::int64_t{1} << 40}) {
        SCOPED_TRACE(ms);
        try {
            require_live_video_duration(ms);
            ADD_FAILURE() << "accepted";
        } catch (const Error& error) {
            EXPECT_EQ(error.code(), ErrorCode::payload_too_large);
            EXPECT_EQ(error.reason, "too_long");
            EXPECT_EQ(error.field(), "live_video");
            EXPECT_EQ(error.amounts, (std::vector<std::pair<std::string, std::int64_t>>{
                                         {"max_duration_ms", live_video_max_duration_ms}, {"duration_ms", ms}}));
        }
    }
}

TEST(LiveVideoQuota, BothPartsCount) {
    Media media;
    media.size_bytes = 100;
    EXPECT_EQ(quota_bytes_of(media), 100);
    media.live_video = LiveVideo{"video/mp4", 2000, "b", "b", 1000, 64, 48};
    EXPECT_EQ(quota_bytes_of(media), 2100);
}

}  // namespace
}  // namespace confab::domain
