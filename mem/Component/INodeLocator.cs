namespace LegoEmu.Mem.Component;

/// <summary>A memory component spread over several memory nodes that can say which node holds an address.</summary>
public interface INodeLocator
{
    /// <summary>The index of the node owning the address, or -1 when no node holds it.</summary>
    int NodeOf(int asid, ulong addr);
}
