# Find glue for the Debian packages listed in third_party/debian-packages.txt.
# Every dependency becomes an imported target named huijian::<name>.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLiteCpp REQUIRED)

pkg_check_modules(HJ_GLIB REQUIRED IMPORTED_TARGET glib-2.0 gobject-2.0 gio-2.0)
pkg_check_modules(HJ_NICE REQUIRED IMPORTED_TARGET nice>=0.1.18)
pkg_check_modules(HJ_SRTP REQUIRED IMPORTED_TARGET libsrtp2>=2.4)
pkg_check_modules(HJ_URING REQUIRED IMPORTED_TARGET liburing>=2.3)
pkg_check_modules(HJ_TOMLPP REQUIRED IMPORTED_TARGET tomlplusplus>=3)
pkg_check_modules(HJ_GST REQUIRED IMPORTED_TARGET
  gstreamer-1.0>=1.22 gstreamer-app-1.0 gstreamer-sdp-1.0 gstreamer-webrtc-1.0
  gstreamer-video-1.0 gstreamer-rtp-1.0 gstreamer-pbutils-1.0)
pkg_check_modules(HJ_SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

add_library(huijian::glib ALIAS PkgConfig::HJ_GLIB)
add_library(huijian::nice ALIAS PkgConfig::HJ_NICE)
add_library(huijian::srtp ALIAS PkgConfig::HJ_SRTP)
add_library(huijian::uring ALIAS PkgConfig::HJ_URING)
add_library(huijian::tomlplusplus ALIAS PkgConfig::HJ_TOMLPP)
add_library(huijian::gstreamer ALIAS PkgConfig::HJ_GST)
add_library(huijian::sqlite3 ALIAS PkgConfig::HJ_SQLITE3)
