#pragma once
// OpenSSL's error queue of the calling thread as one line, for error messages.

#include <string>

namespace huijian::media {

// Takes (and so clears) every queued error; "no OpenSSL detail" when there is none.
std::string openssl_errors();

}  // namespace huijian::media
