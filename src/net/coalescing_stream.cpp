#include "confab/net/coalescing_stream_impl.hpp"

namespace confab::net {

template class CoalescingStream<boost::beast::tcp_stream>;

}  // namespace confab::net
