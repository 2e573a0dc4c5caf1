#include "server/connection_gate.hpp"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace anygpt::server {
namespace {
using boost::asio::ip::make_address;
using Verdict = ConnectionGate::Verdict;

TEST(ConnectionGate, CapsAllConnectionsAndGivesTheirPlacesBack) {
  ConnectionGate gate(2, 0);
  ConnectionTicket a, b, c;
  EXPECT_EQ(gate.admit(make_address("10.0.0.1"), a), Verdict::kAdmitted);
  EXPECT_EQ(gate.admit(make_address("10.0.0.2"), b), Verdict::kAdmitted);
  EXPECT_EQ(gate.admit(make_address("10.0.0.3"), c), Verdict::kTooManyConnections);
  EXPECT_EQ(gate.open(), 2);
  a = ConnectionTicket{};  // closing a connection gives its place back
  EXPECT_EQ(gate.open(), 1);
  EXPECT_EQ(gate.admit(make_address("10.0.0.3"), c), Verdict::kAdmitted);
  EXPECT_EQ(gate.open(), 2);
}

TEST(ConnectionGate, CapsUnauthenticatedConnectionsPerAddressUntilOneAuthenticates) {
  ConnectionGate gate(0, 2);
  std::vector<ConnectionTicket> t(4);
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), t[0]), Verdict::kAdmitted);
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), t[1]), Verdict::kAdmitted);
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), t[2]), Verdict::kTooManyFromAddress);
  EXPECT_EQ(gate.admit(make_address("192.0.2.8"), t[2]), Verdict::kAdmitted) << "another address has its own count";
  t[0].authenticated();
  t[0].authenticated();  // idempotent: frees one slot, not two
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), t[3]), Verdict::kAdmitted);
  ConnectionTicket extra;
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), extra), Verdict::kTooManyFromAddress);
  EXPECT_EQ(gate.open(), 4) << "authenticated connections still count in all";
  t[0] = ConnectionTicket{};  // an authenticated connection closing frees no address slot twice
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), extra), Verdict::kTooManyFromAddress);
  t[1] = ConnectionTicket{};
  EXPECT_EQ(gate.admit(make_address("192.0.2.7"), extra), Verdict::kAdmitted);
}

TEST(ConnectionGate, AnIpv4PeerAndItsMappedIpv6FormAreOneAddress) {
  ConnectionGate gate(0, 1);
  ConnectionTicket a, b, c;
  EXPECT_EQ(gate.admit(make_address("203.0.113.5"), a), Verdict::kAdmitted);
  EXPECT_EQ(gate.admit(make_address("::ffff:203.0.113.5"), b), Verdict::kTooManyFromAddress);
  EXPECT_EQ(gate.admit(make_address("2001:db8::5"), c), Verdict::kAdmitted);
}

TEST(ConnectionGate, AMovedTicketReleasesOnce) {
  ConnectionGate gate(1, 1);
  ConnectionTicket a;
  ASSERT_EQ(gate.admit(make_address("10.1.1.1"), a), Verdict::kAdmitted);
  ConnectionTicket moved(std::move(a));
  a = ConnectionTicket{};  // the moved-from ticket holds nothing
  EXPECT_EQ(gate.open(), 1);
  ConnectionTicket other;
  EXPECT_EQ(gate.admit(make_address("10.1.1.2"), other), Verdict::kTooManyConnections);
  moved = ConnectionTicket{};
  EXPECT_EQ(gate.open(), 0);
  EXPECT_EQ(gate.admit(make_address("10.1.1.1"), other), Verdict::kAdmitted);
}

}  // namespace
}  // namespace anygpt::server
