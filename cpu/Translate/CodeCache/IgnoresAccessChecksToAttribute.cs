namespace System.Runtime.CompilerServices;

/// <summary>
/// Lets the code cache's saved assemblies use the emulator's internals, as dynamic methods do with skipVisibility:
/// the runtime honours this attribute by name on the assembly that does the accessing.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
public sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
{
    public string AssemblyName { get; } = assemblyName;
}
