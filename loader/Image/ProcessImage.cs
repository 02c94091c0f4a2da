namespace LegoEmu.Loader.Image;

/// <summary>Where a loaded program starts and what the kernel would have told it.</summary>
public sealed class ProcessImage
{
    public required ulong Entry { get; init; }
    public required ulong StackPointer { get; init; }
    public required ulong LoadBias { get; init; }
    public required ulong BrkBase { get; init; }
    public required ulong PhdrAddress { get; init; }
    public required int PhdrCount { get; init; }
    public required bool ExecutableStack { get; init; }
    public string? Interpreter { get; init; }
    public ulong StackTop { get; init; }
    public ulong StackBottom { get; init; }
    /// <summary>The auxiliary vector's bytes (key/value pairs ending with AT_NULL), as /proc/self/auxv shows them.</summary>
    public byte[] AuxVector { get; init; } = [];
}
