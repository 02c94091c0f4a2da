namespace LegoEmu.Cluster.Membership;

/// <summary>etcd could not be reached or answered something unusable; the message is one line for the user.</summary>
public sealed class ClusterStoreException(string message, Exception? inner = null) : Exception(message, inner);
