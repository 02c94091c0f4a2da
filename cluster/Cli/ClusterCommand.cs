using System.CommandLine;
using LegoEmu.Mem;
using LegoEmu.Mem.Remote;
using LegoEmu.Cluster.Membership;

namespace LegoEmu.Cluster.Cli;

/// <summary><c>legoemu cluster init DIR</c>: makes the credentials the components of one cluster authenticate each other with.</summary>
public static class ClusterCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "Directory for the credentials (made 0700 if missing); its cluster.key is readable by its owner only" };
        var init = new Command("init", "Write a fresh cluster key and the cluster's TLS certificates (a CA and a node certificate) into DIR for --credentials DIR");
        init.Arguments.Add(dir);
        init.SetAction(pr => Init(pr.GetValue(dir)!));
        var cmd = new Command("cluster", "Manage a cluster's credentials, and show its members");
        cmd.Subcommands.Add(init);
        cmd.Subcommands.Add(CreateStatus());
        return cmd;
    }

    static Command CreateStatus()
    {
        var cluster = ClusterOption.Create("The cluster to show");
        cluster.Required = true;
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var status = new Command("status", "List the cluster's live memory nodes and processor components (capacity, use, load, vRegions held as primary and backup, failures seen), as etcd keeps them");
        status.Options.Add(cluster);
        status.Options.Add(json);
        status.SetAction(pr => Status(pr.GetValue(cluster)!, pr.GetValue(json)));
        return status;
    }

    static int Status(string clusterText, bool json)
    {
        using var store = ClusterOption.Open(clusterText, "cluster status");
        if (store == null) return 2;
        ClusterView view;
        try { view = ClusterView.Read(store); }
        catch (ClusterStoreException e)
        {
            Console.Error.WriteLine($"legoemu cluster status: {e.Message}");
            return 1;
        }
        if (json)
        {
            using var stdout = Console.OpenStandardOutput();
            StatusReport.WriteJson(view, store.Spec.Name, stdout);
        }
        else StatusReport.WriteTable(view, store.Spec.Name, Console.Out);
        return 0;
    }

    static int Init(string dir)
    {
        try
        {
            Credentials.Create(dir);
            ClusterTls.Create(dir);
        }
        catch (CredentialsException e)
        {
            Console.Error.WriteLine($"legoemu cluster init: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"legoemu cluster init: {PrintableName.Escape(dir)}: {e.Message.Split('\n')[0]}");
            return 1;
        }
        Console.Out.WriteLine($"credentials written to {PrintableName.Escape(Path.Combine(dir, Credentials.KeyFile))} (and the TLS certificates {ClusterTls.CaFile}, {ClusterTls.CertificateFile}, {ClusterTls.PrivateKeyFile}); give every component --credentials {PrintableName.Escape(dir)}");
        return 0;
    }
}
