using Iced.Intel;
using LegoEmu.Cpu.State;
using Xunit;

namespace LegoEmu.Tests.Conformance;

/// <summary>The table sizes taken from Iced's last enum members match the enums' real sizes in the Iced version in use.</summary>
public sealed class EnumCountTests
{
    [Fact]
    public void TableSizesMatchIcedsEnums()
    {
        Assert.Equal(EnumCount.Codes, EnumCount.Of(typeof(Code)));
        Assert.Equal(EnumCount.Mnemonics, EnumCount.Of(typeof(Mnemonic)));
        Assert.Equal(EnumCount.Registers, EnumCount.Of(typeof(Register)));
        // Every value below the count is a member: the tables have no hole a new member could hide in.
        Assert.Equal(EnumCount.Codes, Enum.GetValues<Code>().Length);
        Assert.Equal(EnumCount.Mnemonics, Enum.GetValues<Mnemonic>().Length);
        Assert.Equal(EnumCount.Registers, Enum.GetValues<Register>().Length);
    }

    /// <summary>The flag analysis takes the x87 mnemonics (every one whose name starts with F) as one range of Iced's enum.</summary>
    [Fact]
    public void X87MnemonicsAreTheRangeOfNamesStartingWithF()
    {
        foreach (var m in Enum.GetValues<Mnemonic>())
            Assert.True(LegoEmu.Cpu.Translate.X87Mnemonics.Contains(m) == m.ToString().StartsWith('F'), $"{m}");
        Assert.True(LegoEmu.Cpu.Translate.X87Mnemonics.Contains(Mnemonic.Fld));
        Assert.False(LegoEmu.Cpu.Translate.X87Mnemonics.Contains(Mnemonic.Add));
    }
}
