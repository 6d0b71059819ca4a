# Every dependency comes from a Debian package (scripts/setup installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# CAF 0.17.6 ships no CMake package.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
add_library(caf::core INTERFACE IMPORTED)
target_include_directories(caf::core SYSTEM INTERFACE ${CAF_INCLUDE_DIR})
target_link_libraries(caf::core INTERFACE ${CAF_CORE_LIBRARY} Threads::Threads)

# msgpack-cxx is header-only; its CMake target drags in Boost, which we do not
# need, so use the headers directly with MSGPACK_NO_BOOST.
find_path(MSGPACK_INCLUDE_DIR msgpack.hpp REQUIRED)
add_library(sky::msgpack INTERFACE IMPORTED)
target_include_directories(sky::msgpack SYSTEM INTERFACE ${MSGPACK_INCLUDE_DIR})
target_compile_definitions(sky::msgpack INTERFACE MSGPACK_NO_BOOST
                                                  MSGPACK_DEFAULT_API_VERSION=3)

pkg_check_modules(ZMQ REQUIRED IMPORTED_TARGET libzmq)
find_path(CPPZMQ_INCLUDE_DIR zmq.hpp REQUIRED)
add_library(sky::zmq INTERFACE IMPORTED)
target_include_directories(sky::zmq SYSTEM INTERFACE ${CPPZMQ_INCLUDE_DIR})
target_link_libraries(sky::zmq INTERFACE PkgConfig::ZMQ)

find_path(ROCKSDB_INCLUDE_DIR rocksdb/db.h REQUIRED)
find_library(ROCKSDB_LIBRARY rocksdb REQUIRED)
add_library(sky::rocksdb INTERFACE IMPORTED)
target_include_directories(sky::rocksdb SYSTEM INTERFACE ${ROCKSDB_INCLUDE_DIR})
target_link_libraries(sky::rocksdb INTERFACE ${ROCKSDB_LIBRARY})

find_package(yaml-cpp REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(LIBSSH REQUIRED IMPORTED_TARGET libssh)

# Boost.Asio and Beast for every HTTP client and server (skyd-lb, readiness
# probes): header-only Boost from libboost-dev; Boost.System is header-only
# since 1.69.
find_path(BOOST_BEAST_INCLUDE_DIR boost/beast.hpp REQUIRED)
add_library(sky::beast INTERFACE IMPORTED)
target_include_directories(sky::beast SYSTEM INTERFACE ${BOOST_BEAST_INCLUDE_DIR})
target_compile_definitions(sky::beast INTERFACE BOOST_ASIO_NO_DEPRECATED
                                                BOOST_BEAST_USE_STD_STRING_VIEW)
target_link_libraries(sky::beast INTERFACE Threads::Threads)
