// A test suite's one etcd cluster (EtcdCluster): started before the suite's first test, stopped
// after its last, and checked before each test. A fixture derives from
// EtcdClusterSuite<Itself> and may hide ClusterOptions() to ask for another cluster (one member,
// client TLS); each suite has its own. A fixture's own SetUp calls EtcdClusterSuite::SetUp first.
#pragma once

#include <gtest/gtest.h>

#include "tests/support/etcd_cluster.h"

namespace operator_auth::testing {

template <typename Suite>
class EtcdClusterSuite : public ::testing::Test {
 protected:
  static EtcdClusterOptions ClusterOptions() { return EtcdClusterOptions(); }
  static void SetUpTestSuite() { cluster_ = new EtcdCluster(Suite::ClusterOptions()); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(cluster_->ok()) << cluster_->status() << cluster_->Logs(); }

  static inline EtcdCluster* cluster_ = nullptr;
};

}  // namespace operator_auth::testing
