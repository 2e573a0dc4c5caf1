#include <gtest/gtest.h>

#include "auth/key_registry.hpp"

using namespace anygpt;

namespace {
config::KeyRecord rec(std::string key, std::string user, std::string role = "user") {
  config::KeyRecord r;
  r.api_key = std::move(key);
  r.user_id = std::move(user);
  r.role = std::move(role);
  return r;
}
}  // namespace

TEST(KeyRegistry, FindsKnownKeysOnly) {
  auth::KeyRegistry reg({rec("secret-1", "alice"), rec("secret-2", "bob", "admin")});
  ASSERT_TRUE(reg.find("secret-1"));
  EXPECT_EQ(reg.find("secret-1")->user_id, "alice");
  EXPECT_FALSE(reg.find("secret-3"));
  EXPECT_FALSE(reg.find("secret-"));
  EXPECT_FALSE(reg.find(""));
  EXPECT_TRUE(reg.has_admin());
}

TEST(KeyRegistry, AddRefusesDuplicateKeyOrUser) {
  auth::KeyRegistry reg({rec("k1", "alice")});
  EXPECT_FALSE(reg.add(rec("k1", "carol")));
  EXPECT_FALSE(reg.add(rec("k2", "alice")));
  EXPECT_TRUE(reg.add(rec("k3", "carol")));
  EXPECT_TRUE(reg.find("k3"));
}

TEST(KeyRegistry, UsageIsCountedAndMarksDirty) {
  auth::KeyRegistry reg({rec("k1", "alice")});
  EXPECT_FALSE(reg.take_dirty());
  auto k = reg.find("k1");
  auth::KeyRegistry::account(*k, 42);
  EXPECT_TRUE(reg.take_dirty());
  EXPECT_FALSE(reg.take_dirty());
  auto records = reg.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].token_usage, 42);
  EXPECT_EQ(records[0].request_count, 1);
}

TEST(KeyRegistry, FingerprintIsHmacAndPreviewHidesTheMiddle) {
  auto f = auth::key_fingerprint("anygpt-api", "abc");
  EXPECT_EQ(f.size(), 64u);
  EXPECT_NE(f, auth::key_fingerprint("other", "abc"));
  EXPECT_EQ(auth::key_preview("abcdefghijkl"), "abcd...ijkl");
  EXPECT_EQ(auth::generate_api_key().size(), 64u);
}
